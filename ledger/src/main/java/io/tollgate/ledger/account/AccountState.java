package io.tollgate.ledger.account;

import io.tollgate.config.BillingMode;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.account.AccountCommands.AddCountCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.AddCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.ApplyKeyConfigCommand;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.account.AccountCommands.CorrectChargeCommand;
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
import io.tollgate.ledger.account.AccountEvent.Origin;
import io.tollgate.ledger.account.AccountEvent.RequestCharged;
import io.tollgate.ledger.account.AccountEvent.RequestFailed;
import io.tollgate.ledger.account.AccountRefusedException.Reason;
import io.tollgate.ledger.pricing.PriceBook;
import io.tollgate.ledger.pricing.Quote;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A key's account as its events left it, and the rules that decide what a command does to it.
 *
 * <p>{@code decide} methods are guard clauses that return the events to record; {@link #evolve}
 * only assigns state. Both are plain functions, with no clock, randomness or I/O, so the Axon
 * aggregate is a thin shell around them and a property test can drive them by the thousand.
 *
 * @param credits USD granted, -1 for unlimited
 * @param countCredits requests granted, -1 for unlimited
 * @param periodStart start of the billing period, null for "since the key was registered"
 * @param spentUsd USD charged in the current period, corrections included
 * @param spentRequests count credits charged in the current period, corrections included
 * @param fromConfig the values last applied from api.yaml, to tell a changed file from an unchanged
 *     one
 * @param correctionIds corrections already recorded, so a retried correction is recorded once
 */
public record AccountState(
    String keyId,
    BillingMode billingMode,
    BigDecimal credits,
    long countCredits,
    Instant periodStart,
    boolean enabled,
    BigDecimal spentUsd,
    long spentRequests,
    ConfigValues fromConfig,
    Set<String> correctionIds) {

  public static final BigDecimal UNLIMITED_CREDITS = BigDecimal.valueOf(-1);
  public static final long UNLIMITED_COUNT = -1;

  /** The values of a key's api.yaml entry that the ledger applied last. */
  public record ConfigValues(
      BillingMode billingMode,
      BigDecimal credits,
      long countCredits,
      Instant periodStart,
      boolean enabled) {

    ConfigValues withBillingMode(BillingMode value) {
      return new ConfigValues(value, credits, countCredits, periodStart, enabled);
    }

    ConfigValues withCredits(BigDecimal value) {
      return new ConfigValues(billingMode, value, countCredits, periodStart, enabled);
    }

    ConfigValues withCountCredits(long value) {
      return new ConfigValues(billingMode, credits, value, periodStart, enabled);
    }

    ConfigValues withPeriodStart(Instant value) {
      return new ConfigValues(billingMode, credits, countCredits, value, enabled);
    }

    ConfigValues withEnabled(boolean value) {
      return new ConfigValues(billingMode, credits, countCredits, periodStart, value);
    }
  }

  public AccountState {
    correctionIds = Set.copyOf(correctionIds);
  }

  /** USD left in this period, or empty when the USD balance is unlimited. */
  public Optional<BigDecimal> usdBalance() {
    return isUnlimited(credits) ? Optional.empty() : Optional.of(credits.subtract(spentUsd));
  }

  /** Requests left in this period, or empty when the request balance is unlimited. */
  public Optional<Long> countBalance() {
    return countCredits == UNLIMITED_COUNT
        ? Optional.empty()
        : Optional.of(countCredits - spentRequests);
  }

  public static boolean isUnlimited(BigDecimal credits) {
    return credits.signum() < 0;
  }

  // ---- decisions -------------------------------------------------------------------------

  /**
   * Registers the key, or applies each value that changed in the file since it was last applied.
   */
  public static List<AccountEvent> decide(AccountState state, ApplyKeyConfigCommand command) {
    String keyId = command.keyId();
    Instant at = command.at();
    if (state == null) {
      return List.of(
          new KeyRegistered(
              keyId,
              at,
              command.billingMode(),
              command.credits(),
              command.countCredits(),
              command.periodStart(),
              command.enabled()));
    }
    ConfigValues last = state.fromConfig();
    List<AccountEvent> events = new ArrayList<>();
    if (command.billingMode() != last.billingMode()) {
      events.add(new BillingModeSet(keyId, at, command.billingMode(), Origin.CONFIG));
    }
    if (command.credits().compareTo(last.credits()) != 0) {
      events.add(new CreditsGrantSet(keyId, at, command.credits()));
    }
    if (command.countCredits() != last.countCredits()) {
      events.add(new CountCreditsGrantSet(keyId, at, command.countCredits()));
    }
    // A file that drops created_at leaves the current period running: removing a line is not a
    // reason to forget what the period spent.
    if (command.periodStart() != null && !command.periodStart().equals(last.periodStart())) {
      events.add(new BillingPeriodStarted(keyId, at, command.periodStart(), Origin.CONFIG));
    }
    if (command.enabled() != last.enabled()) {
      events.add(
          command.enabled()
              ? new KeyEnabled(keyId, at, "enabled in api.yaml", Origin.CONFIG)
              : new KeyDisabled(keyId, at, "disabled in api.yaml", Origin.CONFIG));
    }
    return events;
  }

  /**
   * Charges a completed request, whole: a key admitted with too little left goes negative, because
   * the upstream was already paid for; the ledger never drops or trims a charge.
   */
  public AccountEvent decide(ChargeRequestCommand command, PriceBook prices) {
    RequestCompleted request = command.request();
    if (!request.success()) {
      return new RequestFailed(
          keyId,
          command.at(),
          request.requestId(),
          request.model(),
          request.endpoint(),
          request.provider(),
          request.httpStatus(),
          request.completedAt());
    }
    Quote quote =
        prices.quote(
            billingMode, request.model(), request.promptTokens(), request.completionTokens());
    boolean inPeriod = periodStart == null || !request.completedAt().isBefore(periodStart);
    return new RequestCharged(
        keyId,
        command.at(),
        request.requestId(),
        request.model(),
        request.endpoint(),
        request.provider(),
        request.completedAt(),
        billingMode,
        quote.costType(),
        request.promptTokens(),
        request.completionTokens(),
        request.estimated(),
        quote.usd(),
        quote.requests(),
        quote.tokenPrice(),
        quote.countPrice(),
        quote.priceVersion(),
        inPeriod);
  }

  public AccountEvent decide(AddCreditsCommand command) {
    if (command.amount() == null || command.amount().signum() <= 0) {
      throw new AccountRefusedException(
          Reason.INVALID_AMOUNT,
          "key " + keyId + ": a USD top-up must be positive, got " + plain(command.amount()));
    }
    if (isUnlimited(credits)) {
      throw new AccountRefusedException(
          Reason.UNLIMITED_BALANCE,
          "key "
              + keyId
              + ": its USD balance is unlimited (-1); there is nothing to add "
              + command.amount().toPlainString()
              + " to");
    }
    return new CreditsAdded(
        keyId, command.at(), command.amount(), credits.add(command.amount()), command.reason());
  }

  public AccountEvent decide(AddCountCreditsCommand command) {
    if (command.amount() <= 0) {
      throw new AccountRefusedException(
          Reason.INVALID_AMOUNT,
          "key " + keyId + ": a request top-up must be positive, got " + command.amount());
    }
    if (countCredits == UNLIMITED_COUNT) {
      throw new AccountRefusedException(
          Reason.UNLIMITED_BALANCE,
          "key "
              + keyId
              + ": its request balance is unlimited (-1); there is nothing to add "
              + command.amount()
              + " to");
    }
    long newTotal;
    try {
      newTotal = Math.addExact(countCredits, command.amount());
    } catch (ArithmeticException e) {
      throw new AccountRefusedException(
          Reason.INVALID_AMOUNT,
          "key "
              + keyId
              + ": adding "
              + command.amount()
              + " requests to "
              + countCredits
              + " overflows");
    }
    return new CountCreditsAdded(keyId, command.at(), command.amount(), newTotal, command.reason());
  }

  public Optional<AccountEvent> decideMode(BillingMode mode, Instant at) {
    return mode == billingMode
        ? Optional.empty()
        : Optional.of(new BillingModeSet(keyId, at, mode, Origin.ADMIN));
  }

  public AccountEvent decidePeriod(Instant start, Instant at) {
    return new BillingPeriodStarted(keyId, at, start, Origin.ADMIN);
  }

  public Optional<AccountEvent> decideEnabled(boolean enable, String reason, Instant at) {
    if (enable == enabled) {
      return Optional.empty();
    }
    return Optional.of(
        enable
            ? new KeyEnabled(keyId, at, reason, Origin.ADMIN)
            : new KeyDisabled(keyId, at, reason, Origin.ADMIN));
  }

  /** A retried correction (same id) is recorded once. */
  public Optional<AccountEvent> decide(CorrectChargeCommand command) {
    if (correctionIds.contains(command.correctionId())) {
      return Optional.empty();
    }
    if (command.reason() == null || command.reason().isBlank()) {
      throw new AccountRefusedException(
          Reason.INVALID_AMOUNT, "key " + keyId + ": a correction needs a reason");
    }
    return Optional.of(
        new ChargeCorrected(
            keyId,
            command.at(),
            command.correctionId(),
            command.requestId(),
            command.usdDelta(),
            command.requestsDelta(),
            command.reason()));
  }

  // ---- evolution -------------------------------------------------------------------------

  /** The state after {@code event}; {@code state} is null before the key was registered. */
  public static AccountState evolve(AccountState state, AccountEvent event) {
    if (event instanceof KeyRegistered e) {
      ConfigValues file =
          new ConfigValues(
              e.billingMode(), e.credits(), e.countCredits(), e.periodStart(), e.enabled());
      return new AccountState(
          e.keyId(),
          e.billingMode(),
          e.credits(),
          e.countCredits(),
          e.periodStart(),
          e.enabled(),
          BigDecimal.ZERO,
          0,
          file,
          Set.of());
    }
    Objects.requireNonNull(state, () -> "event before KeyRegistered: " + event);
    ConfigValues file = state.fromConfig();
    if (event instanceof RequestCharged e) {
      return e.inPeriod() ? state.spend(e.usd(), e.requests()) : state;
    }
    if (event instanceof RequestFailed) {
      return state;
    }
    if (event instanceof CreditsGrantSet e) {
      return state.withCredits(e.credits()).withConfig(file.withCredits(e.credits()));
    }
    if (event instanceof CountCreditsGrantSet e) {
      return state
          .withCountCredits(e.countCredits())
          .withConfig(file.withCountCredits(e.countCredits()));
    }
    if (event instanceof CreditsAdded e) {
      return state.withCredits(e.newCredits());
    }
    if (event instanceof CountCreditsAdded e) {
      return state.withCountCredits(e.newCountCredits());
    }
    if (event instanceof BillingModeSet e) {
      AccountState changed = state.withBillingMode(e.billingMode());
      return e.origin() == Origin.CONFIG
          ? changed.withConfig(file.withBillingMode(e.billingMode()))
          : changed;
    }
    if (event instanceof KeyEnabled e) {
      AccountState changed = state.withEnabled(true);
      return e.origin() == Origin.CONFIG ? changed.withConfig(file.withEnabled(true)) : changed;
    }
    if (event instanceof KeyDisabled e) {
      AccountState changed = state.withEnabled(false);
      return e.origin() == Origin.CONFIG ? changed.withConfig(file.withEnabled(false)) : changed;
    }
    if (event instanceof BillingPeriodStarted e) {
      AccountState changed = state.withPeriod(e.periodStart());
      return e.origin() == Origin.CONFIG
          ? changed.withConfig(file.withPeriodStart(e.periodStart()))
          : changed;
    }
    if (event instanceof ChargeCorrected e) {
      Set<String> corrections = new HashSet<>(state.correctionIds());
      corrections.add(e.correctionId());
      AccountState spent = state.spend(e.usdDelta(), e.requestsDelta());
      return new AccountState(
          spent.keyId,
          spent.billingMode,
          spent.credits,
          spent.countCredits,
          spent.periodStart,
          spent.enabled,
          spent.spentUsd,
          spent.spentRequests,
          spent.fromConfig,
          corrections);
    }
    throw new IllegalStateException("no rule to apply " + event.getClass().getSimpleName());
  }

  private AccountState spend(BigDecimal usd, long requests) {
    return new AccountState(
        keyId,
        billingMode,
        credits,
        countCredits,
        periodStart,
        enabled,
        spentUsd.add(usd),
        spentRequests + requests,
        fromConfig,
        correctionIds);
  }

  /** A new period spends from zero. */
  private AccountState withPeriod(Instant start) {
    return new AccountState(
        keyId,
        billingMode,
        credits,
        countCredits,
        start,
        enabled,
        BigDecimal.ZERO,
        0,
        fromConfig,
        correctionIds);
  }

  private AccountState withCredits(BigDecimal value) {
    return new AccountState(
        keyId,
        billingMode,
        value,
        countCredits,
        periodStart,
        enabled,
        spentUsd,
        spentRequests,
        fromConfig,
        correctionIds);
  }

  private AccountState withCountCredits(long value) {
    return new AccountState(
        keyId,
        billingMode,
        credits,
        value,
        periodStart,
        enabled,
        spentUsd,
        spentRequests,
        fromConfig,
        correctionIds);
  }

  private AccountState withBillingMode(BillingMode value) {
    return new AccountState(
        keyId,
        value,
        credits,
        countCredits,
        periodStart,
        enabled,
        spentUsd,
        spentRequests,
        fromConfig,
        correctionIds);
  }

  private AccountState withEnabled(boolean value) {
    return new AccountState(
        keyId,
        billingMode,
        credits,
        countCredits,
        periodStart,
        value,
        spentUsd,
        spentRequests,
        fromConfig,
        correctionIds);
  }

  private AccountState withConfig(ConfigValues value) {
    return new AccountState(
        keyId,
        billingMode,
        credits,
        countCredits,
        periodStart,
        enabled,
        spentUsd,
        spentRequests,
        value,
        correctionIds);
  }

  private static String plain(BigDecimal amount) {
    return amount == null ? "nothing" : amount.toPlainString();
  }
}
