package io.tollgate.ledger.account;

import io.tollgate.config.BillingMode;
import io.tollgate.contracts.RequestCompleted;
import java.math.BigDecimal;
import java.time.Instant;

/**
 * The commands a key's account accepts. Ids and times come in with the command, so the aggregate
 * stays deterministic.
 */
public final class AccountCommands {

  private AccountCommands() {}

  /** Every command of a key's account names the key it is for. */
  public sealed interface AccountCommand
      permits ApplyKeyConfigCommand,
          ChargeRequestCommand,
          AddCreditsCommand,
          AddCountCreditsCommand,
          SetBillingModeCommand,
          StartBillingPeriodCommand,
          DisableKeyCommand,
          EnableKeyCommand,
          CorrectChargeCommand {
    String keyId();
  }

  /**
   * The key's entry in api.yaml, as it reads now. Registers the key if it has no account yet;
   * otherwise each value that differs from what the ledger last applied from the file is applied,
   * so changes made through the admin API survive until the file changes that value again.
   *
   * @param periodStart the file's {@code created_at}, or null when it has none
   */
  public record ApplyKeyConfigCommand(
      String keyId,
      BillingMode billingMode,
      BigDecimal credits,
      long countCredits,
      Instant periodStart,
      boolean enabled,
      Instant at)
      implements AccountCommand {}

  public record ChargeRequestCommand(String keyId, RequestCompleted request, Instant at)
      implements AccountCommand {}

  public record AddCreditsCommand(String keyId, BigDecimal amount, String reason, Instant at)
      implements AccountCommand {}

  public record AddCountCreditsCommand(String keyId, long amount, String reason, Instant at)
      implements AccountCommand {}

  public record SetBillingModeCommand(String keyId, BillingMode billingMode, Instant at)
      implements AccountCommand {}

  public record StartBillingPeriodCommand(String keyId, Instant periodStart, Instant at)
      implements AccountCommand {}

  public record DisableKeyCommand(String keyId, String reason, Instant at)
      implements AccountCommand {}

  public record EnableKeyCommand(String keyId, String reason, Instant at)
      implements AccountCommand {}

  public record CorrectChargeCommand(
      String keyId,
      String correctionId,
      String requestId,
      BigDecimal usdDelta,
      long requestsDelta,
      String reason,
      Instant at)
      implements AccountCommand {}
}
