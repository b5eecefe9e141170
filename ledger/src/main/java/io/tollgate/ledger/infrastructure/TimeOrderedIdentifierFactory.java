package io.tollgate.ledger.infrastructure;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.axonframework.common.IdentifierFactory;

/**
 * Axon's message identifiers as version 7 UUIDs (RFC 9562): the first 48 bits are the Unix time in
 * milliseconds, the remaining 74 free bits random. Axon finds it through {@code META-INF/services},
 * so every event, command and result message of the ledger gets one.
 *
 * <p>Two reasons, both measured on a ledger charging flat out. Axon's default, {@link
 * UUID#randomUUID()}, draws from {@code SecureRandom}, a lock and a SHA-1 per id, 4 % of the intake
 * thread for the two or three ids of each charge. And the store's unique index on {@code
 * event_identifier} took random version 4 ids at random places, dirtying a different index page per
 * event; ids that grow with time are inserted at the index's right-hand edge.
 *
 * <p>The random bits come from {@link ThreadLocalRandom}, not from a cryptographic source: an event
 * id is an identifier, not a secret, and two ids can only meet within the same millisecond and with
 * the same 74 bits. Should they ever, the unique index refuses the second, its batch is rolled back
 * and runs again with new ids.
 */
public final class TimeOrderedIdentifierFactory extends IdentifierFactory {

  private static final long VERSION_7 = 0x7000L;
  private static final long VARIANT_RFC = 0x8000_0000_0000_0000L;

  @Override
  public String generateIdentifier() {
    return next(System.currentTimeMillis()).toString();
  }

  /** A version 7 UUID of {@code epochMillis} with fresh random bits. */
  static UUID next(long epochMillis) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long mostSignificant = (epochMillis << 16) | VERSION_7 | (random.nextLong() & 0x0FFFL);
    long leastSignificant = VARIANT_RFC | (random.nextLong() >>> 2);
    return new UUID(mostSignificant, leastSignificant);
  }
}
