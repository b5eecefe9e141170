package io.tollgate.ledger.account;

/**
 * Remembers every request id the ledger has recorded, forever, outside the aggregate: a key with
 * millions of requests must not hold millions of ids in memory or in its snapshot.
 *
 * <p>A claim joins the transaction that stores the charge event, so the id and the event are stored
 * together or not at all: a crash between the two cannot leave a charged request unclaimed, nor a
 * claimed request uncharged.
 */
public interface RequestIdRegistry {

  /** Records {@code requestId}; true if it is new, false if it was recorded before. */
  boolean claim(String keyId, String requestId);
}
