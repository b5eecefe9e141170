package io.tollgate.projections.views;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * One row of the billing history: a ledger event of a key and the key's balances right after it.
 * Fields an event does not have are null.
 *
 * @param usd a charge's price, a top-up's amount or a correction's delta
 * @param requests count credits a charge spent, a request top-up's amount, or a correction's delta
 */
public record HistoryRow(
    long globalIndex,
    String keyId,
    Instant at,
    String eventType,
    String origin,
    String requestId,
    String model,
    String endpoint,
    String provider,
    Instant completedAt,
    String billingMode,
    String costType,
    Long promptTokens,
    Long completionTokens,
    Boolean estimated,
    Boolean inPeriod,
    Integer httpStatus,
    BigDecimal usd,
    Long requests,
    String priceVersion,
    BigDecimal tokenPricePrompt,
    BigDecimal tokenPriceCompletion,
    BigDecimal countPrice,
    String reason,
    BigDecimal creditsAfter,
    long countCreditsAfter,
    BigDecimal spentUsdAfter,
    long spentRequestsAfter,
    Instant periodStartAfter) {

  /** USD left after the event, or null when the USD balance is unlimited. */
  public BigDecimal balanceAfter() {
    return creditsAfter.signum() < 0 ? null : creditsAfter.subtract(spentUsdAfter);
  }

  /** Requests left after the event, or null when the request balance is unlimited. */
  public Long countBalanceAfter() {
    return countCreditsAfter < 0 ? null : countCreditsAfter - spentRequestsAfter;
  }
}
