package io.tollgate.ledger.account;

import io.tollgate.config.BillingMode;
import io.tollgate.config.TokenPrice;
import io.tollgate.ledger.pricing.CostType;
import java.math.BigDecimal;
import java.time.Instant;

/**
 * Everything that can happen to a key's account: the whole history vocabulary in one place.
 *
 * <p>Every event carries the key id (never the raw key) and {@code at}, when the ledger recorded
 * it. Amounts are exact decimals. Balances are never stored: a balance is the sum of these events.
 * Grants of -1 mean unlimited, as in api.yaml and the admin API.
 */
public sealed interface AccountEvent {

  String keyId();

  Instant at();

  /** Who asked for a change: the config file, or an operator through the admin API. */
  enum Origin {
    CONFIG,
    ADMIN
  }

  /** The key appeared in api.yaml and got its account, with the file's values. */
  record KeyRegistered(
      String keyId,
      Instant at,
      BillingMode billingMode,
      BigDecimal credits,
      long countCredits,
      Instant periodStart,
      boolean enabled)
      implements AccountEvent {}

  /** The file's {@code credits} changed; the USD grant is now exactly this (-1: unlimited). */
  record CreditsGrantSet(String keyId, Instant at, BigDecimal credits) implements AccountEvent {}

  /** The file's {@code count_credits} changed; the request grant is now exactly this. */
  record CountCreditsGrantSet(String keyId, Instant at, long countCredits)
      implements AccountEvent {}

  /** A USD top-up: the grant grew by {@code amount} to {@code newCredits}. */
  record CreditsAdded(
      String keyId, Instant at, BigDecimal amount, BigDecimal newCredits, String reason)
      implements AccountEvent {}

  /** A request top-up: the grant grew by {@code amount} to {@code newCountCredits}. */
  record CountCreditsAdded(
      String keyId, Instant at, long amount, long newCountCredits, String reason)
      implements AccountEvent {}

  record BillingModeSet(String keyId, Instant at, BillingMode billingMode, Origin origin)
      implements AccountEvent {}

  /** A new billing period began at {@code periodStart}: what it has spent starts from zero. */
  record BillingPeriodStarted(String keyId, Instant at, Instant periodStart, Origin origin)
      implements AccountEvent {}

  record KeyDisabled(String keyId, Instant at, String reason, Origin origin)
      implements AccountEvent {}

  record KeyEnabled(String keyId, Instant at, String reason, Origin origin)
      implements AccountEvent {}

  /**
   * A successful request, charged. The unit prices and the price version that produced {@code usd}
   * are kept so the charge can be explained and re-rated later.
   *
   * @param requests count credits spent: 1 for a count charge, 0 for a token charge
   * @param estimated the tokens were estimated because the usage never arrived
   * @param inPeriod whether the request completed inside the current billing period, and so counts
   *     against its balances; a request completed before the period start is recorded but not spent
   */
  record RequestCharged(
      String keyId,
      Instant at,
      String requestId,
      String model,
      String endpoint,
      String provider,
      Instant completedAt,
      BillingMode billingMode,
      CostType costType,
      long promptTokens,
      long completionTokens,
      boolean estimated,
      BigDecimal usd,
      long requests,
      TokenPrice tokenPrice,
      BigDecimal countPrice,
      String priceVersion,
      boolean inPeriod)
      implements AccountEvent {}

  /**
   * A request no upstream answered with success: recorded for stats and idempotency, not charged.
   */
  record RequestFailed(
      String keyId,
      Instant at,
      String requestId,
      String model,
      String endpoint,
      String provider,
      int httpStatus,
      Instant completedAt)
      implements AccountEvent {}

  /**
   * A compensating entry for an earlier charge: the charge stays, this adds {@code usdDelta} and
   * {@code requestsDelta} (negative for a refund) with the reason.
   */
  record ChargeCorrected(
      String keyId,
      Instant at,
      String correctionId,
      String requestId,
      BigDecimal usdDelta,
      long requestsDelta,
      String reason)
      implements AccountEvent {}
}
