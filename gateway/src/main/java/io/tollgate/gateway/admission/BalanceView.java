package io.tollgate.gateway.admission;

import io.tollgate.contracts.KeyBalance;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's view of what each key has left: the latest {@link KeyBalance} the ledger published,
 * plus the calls this gateway has admitted that that balance cannot yet include. docs/gateway.md
 * says how stale it can be and how far a key can overspend because of it.
 */
public final class BalanceView {

  private final Map<String, KeyBalance> latest = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> unconfirmed = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

  /** Keeps the newer of what it had and {@code balance}; a replayed older one changes nothing. */
  public void update(KeyBalance balance) {
    KeyBalance kept =
        latest.merge(
            balance.keyId(),
            balance,
            (old, incoming) -> incoming.version() >= old.version() ? incoming : old);
    if (kept == balance) {
      // The ledger has charged up to this balance; calls still running stay counted.
      AtomicInteger pending = unconfirmed.get(balance.keyId());
      if (pending != null) {
        pending.updateAndGet(n -> Math.min(n, inFlightFloor(balance.keyId())));
      }
    }
  }

  public Optional<KeyBalance> latest(String keyId) {
    return Optional.ofNullable(latest.get(keyId));
  }

  private int inFlightFloor(String keyId) {
    AtomicInteger running = inFlight.get(keyId);
    return running == null ? 0 : running.get();
  }

  /**
   * Counts a call against {@code requestsLeft} if it fits: at most {@code requestsLeft} calls of
   * a key are ever admitted against one balance, however many arrive together. Null is unlimited.
   */
  public boolean tryReserve(String keyId, Long requestsLeft) {
    AtomicInteger pending = unconfirmed.computeIfAbsent(keyId, id -> new AtomicInteger());
    while (true) {
      int reserved = pending.get();
      if (requestsLeft != null && requestsLeft - reserved <= 0) {
        return false;
      }
      if (pending.compareAndSet(reserved, reserved + 1)) {
        inFlight.computeIfAbsent(keyId, id -> new AtomicInteger()).incrementAndGet();
        return true;
      }
    }
  }

  /** The call has ended; its charge is on its way to the ledger, so it stays reserved until then. */
  public void finished(String keyId) {
    AtomicInteger running = inFlight.get(keyId);
    if (running != null) {
      running.decrementAndGet();
    }
  }

  /** Calls of the key admitted and not yet seen in a published balance. */
  public int unconfirmed(String keyId) {
    AtomicInteger pending = unconfirmed.get(keyId);
    return pending == null ? 0 : pending.get();
  }
}
