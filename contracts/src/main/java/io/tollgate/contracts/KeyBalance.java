package io.tollgate.contracts;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * What a key has left, as the ledger last committed it. The ledger publishes one after each batch
 * that touched the key, to a compacted topic keyed by key id, so a gateway that starts reads the
 * latest balance of every key and then follows the changes.
 *
 * @param billingMode token, count or hybrid, as in api.yaml
 * @param usdLeft USD left in the current period, or null when the USD balance is unlimited
 * @param requestsLeft requests left in the current period, or null when unlimited
 * @param version the account's event sequence number: a gateway keeps the highest it has seen, so a
 *     late or replayed message never rolls a balance back
 * @param at when the ledger read the balance
 */
public record KeyBalance(
    String keyId,
    String billingMode,
    BigDecimal usdLeft,
    Long requestsLeft,
    boolean enabled,
    long version,
    Instant at) {

  /** CloudEvents {@code type} attribute of this message. */
  public static final String TYPE = "io.tollgate.key.balance.v1";

  public boolean usdUnlimited() {
    return usdLeft == null;
  }

  public boolean requestsUnlimited() {
    return requestsLeft == null;
  }
}
