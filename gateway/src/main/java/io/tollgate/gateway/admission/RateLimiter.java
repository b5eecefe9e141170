package io.tollgate.gateway.admission;

import io.tollgate.config.RateLimit;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * uni-api's per-key {@code rate_limit}: every {@code N/unit} term must hold over a sliding window.
 * A call counts against every term only if all of them let it pass, so a refused call spends
 * nothing. Each term remembers at most N call times, so memory is bounded by the config.
 */
public final class RateLimiter {

  private final LongSupplier nanoClock;
  private final Map<String, Window[]> windows = new ConcurrentHashMap<>();

  public RateLimiter(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  /** Admitted: empty. Refused: how long until the term that refused frees a slot. */
  public Duration tryAcquire(String keyId, List<RateLimit> limits) {
    if (limits.isEmpty()) {
      return Duration.ZERO;
    }
    Window[] terms = windows.computeIfAbsent(keyId, id -> windowsFor(limits));
    long now = nanoClock.getAsLong();
    synchronized (terms) {
      Duration wait = Duration.ZERO;
      for (Window term : terms) {
        Duration termWait = term.waitAt(now);
        if (termWait.compareTo(wait) > 0) {
          wait = termWait;
        }
      }
      if (!wait.isZero()) {
        return wait;
      }
      for (Window term : terms) {
        term.calls.addLast(now);
      }
      return Duration.ZERO;
    }
  }

  private static Window[] windowsFor(List<RateLimit> limits) {
    return limits.stream().map(Window::new).toArray(Window[]::new);
  }

  private static final class Window {
    private final int capacity;
    private final long lengthNanos;
    private final ArrayDeque<Long> calls = new ArrayDeque<>();

    Window(RateLimit limit) {
      this.capacity = limit.requests();
      this.lengthNanos = limit.window().toNanos();
    }

    Duration waitAt(long now) {
      while (!calls.isEmpty() && now - calls.peekFirst() >= lengthNanos) {
        calls.removeFirst();
      }
      if (calls.size() < capacity) {
        return Duration.ZERO;
      }
      return Duration.ofNanos(calls.peekFirst() + lengthNanos - now);
    }
  }
}
