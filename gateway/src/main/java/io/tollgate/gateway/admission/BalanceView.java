package io.tollgate.gateway.admission;

import io.tollgate.contracts.KeyBalance;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The gateway's view of what each key has left: the latest {@link KeyBalance} the ledger published,
 * and the calls this gateway admitted that that balance may not include yet. A call is reserved
 * from admission until {@code hold} after it ends, about as long as its charge takes to come back
 * in a published balance; a balance carries no request ids, so the hold is a time, not a match.
 * docs/gateway.md says what that allows.
 */
public final class BalanceView {

  private final Map<String, KeyBalance> latest = new ConcurrentHashMap<>();
  private final Map<String, Reservations> reservations = new ConcurrentHashMap<>();
  private final LongSupplier nanoClock;
  private final long holdNanos;

  public BalanceView(LongSupplier nanoClock, Duration hold) {
    this.nanoClock = nanoClock;
    this.holdNanos = hold.toNanos();
  }

  /** A key's calls running, and the end times of those that ended less than a hold ago. */
  private static final class Reservations {
    private int running;
    private final ArrayDeque<Long> ended = new ArrayDeque<>();

    int count(long now, long holdNanos) {
      while (!ended.isEmpty() && now - ended.peekFirst() >= holdNanos) {
        ended.removeFirst();
      }
      return running + ended.size();
    }
  }

  /** Keeps the newer of what it had and {@code balance}; a replayed older one changes nothing. */
  public void update(KeyBalance balance) {
    latest.merge(
        balance.keyId(),
        balance,
        (old, incoming) -> incoming.version() >= old.version() ? incoming : old);
  }

  public Optional<KeyBalance> latest(String keyId) {
    return Optional.ofNullable(latest.get(keyId));
  }

  /** What {@link #tryReserve} did. */
  public enum Reservation {
    RESERVED,
    /** The key's requests left are all reserved by calls running or just ended. */
    NO_REQUESTS_LEFT,
    /** The key already runs as many calls as it may at once. */
    TOO_MANY_RUNNING
  }

  /**
   * Reserves a call if it fits: at most {@code requestsLeft} calls of a key are reserved at once,
   * and at most {@code maxRunning} of them run, however many arrive together. Null requests left is
   * unlimited, and so is a {@code maxRunning} of 0: the call is reserved all the same.
   */
  public Reservation tryReserve(String keyId, Long requestsLeft, int maxRunning) {
    Reservations key = reservations.computeIfAbsent(keyId, id -> new Reservations());
    synchronized (key) {
      if (maxRunning > 0 && key.running >= maxRunning) {
        return Reservation.TOO_MANY_RUNNING;
      }
      if (requestsLeft != null && requestsLeft - key.count(nanoClock.getAsLong(), holdNanos) <= 0) {
        return Reservation.NO_REQUESTS_LEFT;
      }
      key.running++;
      return Reservation.RESERVED;
    }
  }

  /** Gives back the reservation of a call that was refused after it was reserved; no hold. */
  public void cancel(String keyId) {
    release(keyId, false);
  }

  /** The call has ended; it stays reserved for the hold, while its charge travels to the ledger. */
  public void finished(String keyId) {
    release(keyId, true);
  }

  private void release(String keyId, boolean hold) {
    Reservations key = reservations.get(keyId);
    if (key == null) {
      return;
    }
    synchronized (key) {
      key.running--;
      if (hold) {
        key.ended.addLast(nanoClock.getAsLong());
      }
    }
  }

  /** Calls of the key reserved now. */
  public int reserved(String keyId) {
    Reservations key = reservations.get(keyId);
    if (key == null) {
      return 0;
    }
    synchronized (key) {
      return key.count(nanoClock.getAsLong(), holdNanos);
    }
  }
}
