package io.tollgate.ledger.account;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ApiConfigParser;
import io.tollgate.config.BillingMode;
import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.account.AccountCommands.AddCountCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.AddCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.ApplyKeyConfigCommand;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.account.AccountCommands.CorrectChargeCommand;
import io.tollgate.ledger.account.AccountEvent.BillingPeriodStarted;
import io.tollgate.ledger.account.AccountEvent.ChargeCorrected;
import io.tollgate.ledger.account.AccountEvent.CountCreditsAdded;
import io.tollgate.ledger.account.AccountEvent.CountCreditsGrantSet;
import io.tollgate.ledger.account.AccountEvent.CreditsAdded;
import io.tollgate.ledger.account.AccountEvent.CreditsGrantSet;
import io.tollgate.ledger.account.AccountEvent.KeyRegistered;
import io.tollgate.ledger.account.AccountEvent.RequestCharged;
import io.tollgate.ledger.pricing.CostType;
import io.tollgate.ledger.pricing.PriceBook;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Thousands of random charges, top-ups, grant changes, mode changes, new periods and corrections,
 * and after every step: each balance is exactly its grants minus its charges, recomputed from the
 * events alone, and every charge is exactly its tokens times its recorded unit prices.
 */
class BalanceProperties {

  private static final PriceBook PRICES =
      new PriceBook(
          ApiConfigParser.parse(Path.of("src/test/resources/behaviour-api.yaml")).prices());
  private static final String KEY = KeyIds.of("sk-property");
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final List<String> MODELS =
      List.of("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "gpt-4-turbo", "llama-3-70b");

  sealed interface Step {}

  record Charge(String model, long prompt, long completion, boolean success, boolean late)
      implements Step {}

  record TopUp(BigDecimal amount) implements Step {}

  record CountTopUp(long amount) implements Step {}

  record Mode(BillingMode mode) implements Step {}

  record NewPeriod() implements Step {}

  record FileGrants(BigDecimal credits, long countCredits) implements Step {}

  record Correction(BigDecimal usd, long requests) implements Step {}

  @Property(tries = 1000)
  void eachBalanceIsItsGrantsMinusItsChargesExactly(
      @ForAll("grants") BigDecimal credits,
      @ForAll("countGrants") long countCredits,
      @ForAll("modes") BillingMode mode,
      @ForAll("histories") List<Step> steps) {
    List<AccountEvent> history = new ArrayList<>();
    AccountState state = null;
    for (AccountEvent event :
        AccountState.decide(
            null, new ApplyKeyConfigCommand(KEY, mode, credits, countCredits, T0, true, T0))) {
      history.add(event);
      state = AccountState.evolve(state, event);
    }
    Instant clock = T0;
    int n = 0;
    for (Step step : steps) {
      clock = clock.plusSeconds(60);
      n++;
      for (AccountEvent event : decide(state, step, clock, n)) {
        history.add(event);
        state = AccountState.evolve(state, event);
      }
      assertBalancesMatch(state, history);
    }
  }

  private static List<AccountEvent> decide(AccountState state, Step step, Instant now, int n) {
    try {
      if (step instanceof Charge c) {
        Instant completed = c.late() ? state.periodStart().minusSeconds(1) : now;
        RequestCompleted request =
            new RequestCompleted(
                "r" + n,
                KEY,
                c.model(),
                "/v1/chat/completions",
                "p",
                c.success(),
                c.success() ? 200 : 500,
                c.prompt(),
                c.completion(),
                false,
                completed,
                completed);
        AccountEvent event = state.decide(new ChargeRequestCommand(KEY, request, now), PRICES);
        if (event instanceof RequestCharged charged) {
          assertChargeIsExact(charged);
        }
        return List.of(event);
      }
      if (step instanceof TopUp t) {
        return List.of(state.decide(new AddCreditsCommand(KEY, t.amount(), "top-up", now)));
      }
      if (step instanceof CountTopUp t) {
        return List.of(state.decide(new AddCountCreditsCommand(KEY, t.amount(), "top-up", now)));
      }
      if (step instanceof Mode m) {
        return state.decideMode(m.mode(), now).map(List::of).orElse(List.of());
      }
      if (step instanceof NewPeriod) {
        return List.of(state.decidePeriod(now, now));
      }
      if (step instanceof FileGrants f) {
        return AccountState.decide(
            state,
            new ApplyKeyConfigCommand(
                KEY,
                state.fromConfig().billingMode(),
                f.credits(),
                f.countCredits(),
                state.fromConfig().periodStart(),
                true,
                now));
      }
      if (step instanceof Correction c) {
        return state
            .decide(
                new CorrectChargeCommand(
                    KEY, "c" + n, "r" + (n - 1), c.usd(), c.requests(), "property", now))
            .map(List::of)
            .orElse(List.of());
      }
    } catch (AccountRefusedException refused) {
      assertThat(refused.reason()).isEqualTo(AccountRefusedException.Reason.UNLIMITED_BALANCE);
      return List.of();
    }
    throw new IllegalStateException("unknown step " + step);
  }

  private static void assertChargeIsExact(RequestCharged charged) {
    if (charged.costType() == CostType.TOKEN) {
      BigDecimal expected =
          charged
              .tokenPrice()
              .prompt()
              .multiply(BigDecimal.valueOf(charged.promptTokens()))
              .add(
                  charged
                      .tokenPrice()
                      .completion()
                      .multiply(BigDecimal.valueOf(charged.completionTokens())))
              .divide(BigDecimal.valueOf(1_000_000));
      assertThat(charged.usd()).isEqualByComparingTo(expected);
      assertThat(charged.requests()).isZero();
    } else {
      assertThat(charged.usd()).isEqualByComparingTo(charged.countPrice());
      assertThat(charged.requests()).isEqualTo(1);
    }
    assertThat(charged.priceVersion()).isEqualTo(PRICES.version());
  }

  /** Recomputes both balances from the events alone and compares them with the state's. */
  private static void assertBalancesMatch(AccountState state, List<AccountEvent> history) {
    BigDecimal grant = null;
    Long countGrant = null;
    BigDecimal spent = BigDecimal.ZERO;
    long spentRequests = 0;
    for (AccountEvent event : history) {
      if (event instanceof KeyRegistered e) {
        grant = e.credits();
        countGrant = e.countCredits();
      } else if (event instanceof CreditsGrantSet e) {
        grant = e.credits();
      } else if (event instanceof CountCreditsGrantSet e) {
        countGrant = e.countCredits();
      } else if (event instanceof CreditsAdded e) {
        grant = grant.add(e.amount());
      } else if (event instanceof CountCreditsAdded e) {
        countGrant = countGrant + e.amount();
      } else if (event instanceof BillingPeriodStarted) {
        spent = BigDecimal.ZERO;
        spentRequests = 0;
      } else if (event instanceof RequestCharged e && e.inPeriod()) {
        spent = spent.add(e.usd());
        spentRequests += e.requests();
      } else if (event instanceof ChargeCorrected e) {
        spent = spent.add(e.usdDelta());
        spentRequests += e.requestsDelta();
      }
    }
    Optional<BigDecimal> expectedUsd =
        grant.signum() < 0 ? Optional.empty() : Optional.of(grant.subtract(spent));
    Optional<Long> expectedCount =
        countGrant < 0 ? Optional.empty() : Optional.of(countGrant - spentRequests);
    assertThat(state.usdBalance().isPresent()).isEqualTo(expectedUsd.isPresent());
    expectedUsd.ifPresent(
        usd -> assertThat(state.usdBalance().orElseThrow()).isEqualByComparingTo(usd));
    assertThat(state.countBalance()).isEqualTo(expectedCount);
  }

  @Provide
  Arbitrary<BigDecimal> grants() {
    return Arbitraries.oneOf(
        Arbitraries.just(BigDecimal.valueOf(-1)),
        Arbitraries.bigDecimals().between(BigDecimal.ZERO, BigDecimal.valueOf(1000)).ofScale(6));
  }

  @Provide
  Arbitrary<Long> countGrants() {
    return Arbitraries.oneOf(Arbitraries.just(-1L), Arbitraries.longs().between(0, 100_000));
  }

  @Provide
  Arbitrary<BillingMode> modes() {
    return Arbitraries.of(BillingMode.class);
  }

  @Provide
  Arbitrary<List<Step>> histories() {
    return steps().list().ofMaxSize(80);
  }

  private Arbitrary<Step> steps() {
    Arbitrary<Step> charge =
        Combinators.combine(
                Arbitraries.of(MODELS),
                Arbitraries.longs().between(0, 2_000_000),
                Arbitraries.longs().between(0, 2_000_000),
                Arbitraries.integers().between(0, 9).map(i -> i > 0),
                Arbitraries.integers().between(0, 19).map(i -> i == 0))
            .as(Charge::new);
    Arbitrary<Step> topUp =
        Arbitraries.bigDecimals()
            .between(new BigDecimal("0.000001"), BigDecimal.valueOf(500))
            .ofScale(6)
            .map(TopUp::new);
    Arbitrary<Step> countTopUp = Arbitraries.longs().between(1, 10_000).map(CountTopUp::new);
    Arbitrary<Step> modeChange = Arbitraries.of(BillingMode.class).map(Mode::new);
    Arbitrary<Step> period = Arbitraries.just(new NewPeriod());
    Arbitrary<Step> file = Combinators.combine(grants(), countGrants()).as(FileGrants::new);
    Arbitrary<Step> correction =
        Combinators.combine(
                Arbitraries.bigDecimals().between(new BigDecimal("-1"), BigDecimal.ONE).ofScale(4),
                Arbitraries.longs().between(-1, 1))
            .as(Correction::new);
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(20, charge),
        net.jqwik.api.Tuple.of(3, topUp),
        net.jqwik.api.Tuple.of(3, countTopUp),
        net.jqwik.api.Tuple.of(2, modeChange),
        net.jqwik.api.Tuple.of(1, period),
        net.jqwik.api.Tuple.of(1, file),
        net.jqwik.api.Tuple.of(1, correction));
  }
}
