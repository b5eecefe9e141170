package io.tollgate.ledger.account;

import io.tollgate.config.BillingMode;
import io.tollgate.contracts.RequestCompleted;
import java.math.BigDecimal;
import java.time.Instant;
import org.axonframework.modelling.command.TargetAggregateIdentifier;

/**
 * The commands a key's account accepts. Ids and times come in with the command, so the aggregate
 * stays deterministic.
 */
public final class AccountCommands {

  private AccountCommands() {}

  /**
   * The key's entry in api.yaml, as it reads now. Registers the key if it has no account yet;
   * otherwise each value that differs from what the ledger last applied from the file is applied,
   * so changes made through the admin API survive until the file changes that value again.
   *
   * @param periodStart the file's {@code created_at}, or null when it has none
   */
  public record ApplyKeyConfigCommand(
      @TargetAggregateIdentifier String keyId,
      BillingMode billingMode,
      BigDecimal credits,
      long countCredits,
      Instant periodStart,
      boolean enabled,
      Instant at) {}

  public record ChargeRequestCommand(
      @TargetAggregateIdentifier String keyId, RequestCompleted request, Instant at) {}

  public record AddCreditsCommand(
      @TargetAggregateIdentifier String keyId, BigDecimal amount, String reason, Instant at) {}

  public record AddCountCreditsCommand(
      @TargetAggregateIdentifier String keyId, long amount, String reason, Instant at) {}

  public record SetBillingModeCommand(
      @TargetAggregateIdentifier String keyId, BillingMode billingMode, Instant at) {}

  public record StartBillingPeriodCommand(
      @TargetAggregateIdentifier String keyId, Instant periodStart, Instant at) {}

  public record DisableKeyCommand(@TargetAggregateIdentifier String keyId, String reason, Instant at) {}

  public record EnableKeyCommand(@TargetAggregateIdentifier String keyId, String reason, Instant at) {}

  public record CorrectChargeCommand(
      @TargetAggregateIdentifier String keyId,
      String correctionId,
      String requestId,
      BigDecimal usdDelta,
      long requestsDelta,
      String reason,
      Instant at) {}
}
