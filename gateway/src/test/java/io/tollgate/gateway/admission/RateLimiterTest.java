package io.tollgate.gateway.admission;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.RateLimit;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final RateLimiter limiter = new RateLimiter(now::get);
  private final List<RateLimit> twoPerMinuteFivePerDay =
      List.of(new RateLimit(2, Duration.ofMinutes(1)), new RateLimit(5, Duration.ofDays(1)));

  @Test
  void callsBeyondATermAreRefusedUntilItsWindowSlides() {
    assertThat(limiter.tryAcquire("k", twoPerMinuteFivePerDay)).isZero();
    now.addAndGet(Duration.ofSeconds(10).toNanos());
    assertThat(limiter.tryAcquire("k", twoPerMinuteFivePerDay)).isZero();
    assertThat(limiter.tryAcquire("k", twoPerMinuteFivePerDay)).isEqualTo(Duration.ofSeconds(50));
    now.addAndGet(Duration.ofSeconds(50).toNanos());
    assertThat(limiter.tryAcquire("k", twoPerMinuteFivePerDay)).isZero();
  }

  @Test
  void aRefusedCallSpendsNoSlotOfAnyTerm() {
    for (int minute = 0; minute < 10; minute++) {
      limiter.tryAcquire("k", twoPerMinuteFivePerDay);
      limiter.tryAcquire("k", twoPerMinuteFivePerDay);
      limiter.tryAcquire("k", twoPerMinuteFivePerDay);
      now.addAndGet(Duration.ofMinutes(1).toNanos());
    }
    // Five admitted in the day, whatever was refused on the way; the sixth waits for the day.
    assertThat(limiter.tryAcquire("k", twoPerMinuteFivePerDay)).isGreaterThan(Duration.ofHours(23));
  }

  @Test
  void keysAreLimitedApart() {
    List<RateLimit> onePerMinute = List.of(new RateLimit(1, Duration.ofMinutes(1)));
    assertThat(limiter.tryAcquire("a", onePerMinute)).isZero();
    assertThat(limiter.tryAcquire("b", onePerMinute)).isZero();
    assertThat(limiter.tryAcquire("a", onePerMinute)).isPositive();
  }
}
