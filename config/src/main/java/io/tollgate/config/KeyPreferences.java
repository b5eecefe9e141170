package io.tollgate.config;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * The billing preferences of one API key as the file states them.
 *
 * @param billingMode the mode; token when the file says nothing
 * @param credits USD granted, or -1 for unlimited (also when absent)
 * @param countCredits requests granted, or -1 for unlimited (also when absent)
 * @param createdAt start of the billing period, or null when absent
 * @param enabled false when the file disables the key
 * @param rateLimits the {@code rate_limit} terms, all of which must hold; empty for none
 * @param maxRunning how many calls of the key may run at once ({@code max_running}, Tollgate's own
 *     preference), or 0 when the file says nothing and the gateway's setting applies
 */
public record KeyPreferences(
    BillingMode billingMode,
    BigDecimal credits,
    long countCredits,
    OffsetDateTime createdAt,
    boolean enabled,
    List<RateLimit> rateLimits,
    int maxRunning) {

  public static final BigDecimal UNLIMITED_CREDITS = BigDecimal.valueOf(-1);
  public static final long UNLIMITED_COUNT = -1;

  public KeyPreferences {
    rateLimits = List.copyOf(rateLimits);
  }
}
