package io.tollgate.projections.views;

import io.tollgate.config.BillingMode;
import io.tollgate.ledger.account.AccountEvent;
import io.tollgate.ledger.account.AccountEvent.BillingModeSet;
import io.tollgate.ledger.account.AccountEvent.BillingPeriodStarted;
import io.tollgate.ledger.account.AccountEvent.ChargeCorrected;
import io.tollgate.ledger.account.AccountEvent.CountCreditsAdded;
import io.tollgate.ledger.account.AccountEvent.CountCreditsGrantSet;
import io.tollgate.ledger.account.AccountEvent.CreditsAdded;
import io.tollgate.ledger.account.AccountEvent.CreditsGrantSet;
import io.tollgate.ledger.account.AccountEvent.KeyDisabled;
import io.tollgate.ledger.account.AccountEvent.KeyEnabled;
import io.tollgate.ledger.account.AccountEvent.KeyRegistered;
import io.tollgate.ledger.account.AccountEvent.RequestCharged;
import io.tollgate.ledger.account.AccountEvent.RequestFailed;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.Objects;

/**
 * One key's row of {@code api_keys_states}, folded from its events by the same rules as the
 * ledger's {@code AccountState.evolve}: a balance here must equal the ledger's to the last digit.
 * Mutable on purpose: a rebuild folds a million events through these objects.
 */
public final class KeyStateRow {

  private final String keyId;
  private BillingMode billingMode;
  private BigDecimal credits;
  private long countCredits;
  private Instant periodStart;
  private boolean enabled;
  private BigDecimal spentUsd;
  private long spentRequests;
  private final Instant registeredAt;
  private Instant lastEventAt;
  private long lastGlobalIndex;

  public KeyStateRow(
      String keyId,
      BillingMode billingMode,
      BigDecimal credits,
      long countCredits,
      Instant periodStart,
      boolean enabled,
      BigDecimal spentUsd,
      long spentRequests,
      Instant registeredAt,
      Instant lastEventAt,
      long lastGlobalIndex) {
    this.keyId = keyId;
    this.billingMode = billingMode;
    this.credits = credits;
    this.countCredits = countCredits;
    this.periodStart = periodStart;
    this.enabled = enabled;
    this.spentUsd = spentUsd;
    this.spentRequests = spentRequests;
    this.registeredAt = registeredAt;
    this.lastEventAt = lastEventAt;
    this.lastGlobalIndex = lastGlobalIndex;
  }

  /** The row a key's registration creates. */
  public static KeyStateRow registered(KeyRegistered e, long globalIndex) {
    return new KeyStateRow(
        e.keyId(),
        e.billingMode(),
        e.credits(),
        e.countCredits(),
        e.periodStart(),
        e.enabled(),
        BigDecimal.ZERO,
        0,
        e.at(),
        e.at(),
        globalIndex);
  }

  /** Applies one event of this key that came after registration. */
  public void apply(AccountEvent event, long globalIndex) {
    if (!keyId.equals(event.keyId())) {
      throw new IllegalArgumentException("event of " + event.keyId() + " applied to " + keyId);
    }
    if (event instanceof RequestCharged e) {
      if (e.inPeriod()) {
        spend(e.usd(), e.requests());
      }
    } else if (event instanceof RequestFailed) {
      // recorded for stats and the audit trail; nothing spent
    } else if (event instanceof CreditsGrantSet e) {
      credits = e.credits();
    } else if (event instanceof CountCreditsGrantSet e) {
      countCredits = e.countCredits();
    } else if (event instanceof CreditsAdded e) {
      credits = e.newCredits();
    } else if (event instanceof CountCreditsAdded e) {
      countCredits = e.newCountCredits();
    } else if (event instanceof BillingModeSet e) {
      billingMode = e.billingMode();
    } else if (event instanceof KeyEnabled) {
      enabled = true;
    } else if (event instanceof KeyDisabled) {
      enabled = false;
    } else if (event instanceof BillingPeriodStarted e) {
      periodStart = e.periodStart();
      spentUsd = BigDecimal.ZERO;
      spentRequests = 0;
    } else if (event instanceof ChargeCorrected e) {
      spend(e.usdDelta(), e.requestsDelta());
    } else if (event instanceof KeyRegistered) {
      throw new IllegalStateException("key " + keyId + " registered twice");
    } else {
      throw new IllegalStateException("no view rule for " + event.getClass().getSimpleName());
    }
    lastEventAt = event.at();
    lastGlobalIndex = globalIndex;
  }

  private void spend(BigDecimal usd, long requests) {
    spentUsd = spentUsd.add(usd);
    spentRequests += requests;
  }

  public static boolean isUnlimited(BigDecimal credits) {
    return credits.signum() < 0;
  }

  /** USD left in this period, or null when the USD balance is unlimited. */
  public BigDecimal usdBalance() {
    return isUnlimited(credits) ? null : credits.subtract(spentUsd);
  }

  /** Requests left in this period, or null when the request balance is unlimited. */
  public Long countBalance() {
    return countCredits < 0 ? null : countCredits - spentRequests;
  }

  public String keyId() {
    return keyId;
  }

  public BillingMode billingMode() {
    return billingMode;
  }

  public BigDecimal credits() {
    return credits;
  }

  public long countCredits() {
    return countCredits;
  }

  public Instant periodStart() {
    return periodStart;
  }

  public boolean enabled() {
    return enabled;
  }

  public BigDecimal spentUsd() {
    return spentUsd;
  }

  public long spentRequests() {
    return spentRequests;
  }

  public Instant registeredAt() {
    return registeredAt;
  }

  public Instant lastEventAt() {
    return lastEventAt;
  }

  public long lastGlobalIndex() {
    return lastGlobalIndex;
  }

  /** Start of the period uni-api calls {@code created_at}: the period start, else registration. */
  public Instant createdAt() {
    return periodStart != null ? periodStart : registeredAt;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof KeyStateRow row
        && keyId.equals(row.keyId)
        && billingMode == row.billingMode
        && credits.compareTo(row.credits) == 0
        && countCredits == row.countCredits
        && Objects.equals(periodStart, row.periodStart)
        && enabled == row.enabled
        && spentUsd.compareTo(row.spentUsd) == 0
        && spentRequests == row.spentRequests;
  }

  @Override
  public int hashCode() {
    return keyId.hashCode();
  }

  @Override
  public String toString() {
    return "KeyStateRow["
        + keyId
        + " "
        + billingMode
        + " credits="
        + credits.toPlainString()
        + " count="
        + countCredits
        + " spent="
        + spentUsd.toPlainString()
        + "/"
        + spentRequests
        + "]";
  }
}
