package io.tollgate.ledger.account;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ApiConfigParser;
import io.tollgate.config.BillingMode;
import io.tollgate.config.TokenPrice;
import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.account.AccountCommands.AddCountCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.AddCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.ApplyKeyConfigCommand;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.account.AccountCommands.CorrectChargeCommand;
import io.tollgate.ledger.account.AccountCommands.DisableKeyCommand;
import io.tollgate.ledger.account.AccountCommands.SetBillingModeCommand;
import io.tollgate.ledger.account.AccountCommands.StartBillingPeriodCommand;
import io.tollgate.ledger.account.AccountEvent.BillingModeSet;
import io.tollgate.ledger.account.AccountEvent.BillingPeriodStarted;
import io.tollgate.ledger.account.AccountEvent.ChargeCorrected;
import io.tollgate.ledger.account.AccountEvent.CountCreditsAdded;
import io.tollgate.ledger.account.AccountEvent.CountCreditsGrantSet;
import io.tollgate.ledger.account.AccountEvent.CreditsAdded;
import io.tollgate.ledger.account.AccountEvent.CreditsGrantSet;
import io.tollgate.ledger.account.AccountEvent.KeyDisabled;
import io.tollgate.ledger.account.AccountEvent.KeyRegistered;
import io.tollgate.ledger.account.AccountEvent.Origin;
import io.tollgate.ledger.account.AccountEvent.RequestCharged;
import io.tollgate.ledger.account.AccountEvent.RequestFailed;
import io.tollgate.ledger.infrastructure.KeyCommandTargetResolver;
import io.tollgate.ledger.pricing.CostType;
import io.tollgate.ledger.pricing.PriceBook;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KeyAccountTest {

  private static final PriceBook PRICES =
      new PriceBook(
          ApiConfigParser.parse(Path.of("src/test/resources/behaviour-api.yaml")).prices());
  private static final String KEY = KeyIds.of("sk-count-user-key");
  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
  private static final Instant PERIOD = Instant.parse("2024-01-01T00:00:00Z");

  private AggregateTestFixture<KeyAccount> fixture;

  @BeforeEach
  void setUp() {
    fixture = new AggregateTestFixture<>(KeyAccount.class);
    fixture.registerInjectableResource(PRICES);
    fixture.registerInjectableResource(new InMemoryRequestIds());
    fixture.registerCommandTargetResolver(new KeyCommandTargetResolver());
  }

  private static KeyRegistered registered(BillingMode mode, String credits, long count) {
    return new KeyRegistered(KEY, T0, mode, new BigDecimal(credits), count, PERIOD, true);
  }

  private static RequestCompleted request(
      String id, String model, long prompt, long completion, boolean success) {
    return request(id, model, prompt, completion, success, false, T0.plusSeconds(2));
  }

  /**
   * A gateway record of a call that completed at {@code completedAt}, one second after it began.
   */
  private static RequestCompleted request(
      String id,
      String model,
      long prompt,
      long completion,
      boolean success,
      boolean estimated,
      Instant completedAt) {
    return new RequestCompleted(
        id,
        KEY,
        model,
        "/v1/chat/completions",
        "openai",
        success,
        success ? 200 : 502,
        prompt,
        completion,
        estimated,
        completedAt.minusSeconds(1),
        completedAt);
  }

  private static ChargeRequestCommand charge(
      String id, String model, long prompt, long completion) {
    return new ChargeRequestCommand(
        KEY, request(id, model, prompt, completion, true), T0.plusSeconds(3));
  }

  @Test
  void keyInConfigIsRegisteredWithTheFilesValues() {
    fixture
        .givenNoPriorActivity()
        .when(
            new ApplyKeyConfigCommand(
                KEY, BillingMode.COUNT, new BigDecimal("-1"), 1000, PERIOD, true, T0))
        .expectEvents(registered(BillingMode.COUNT, "-1", 1000));
  }

  @Test
  void unchangedConfigAppliesNothingSoAdminChangesSurvive() {
    fixture
        .given(
            registered(BillingMode.COUNT, "-1", 1000),
            new CountCreditsAdded(KEY, T0, 100, 1100, "top-up"),
            new BillingModeSet(KEY, T0, BillingMode.HYBRID, Origin.ADMIN))
        .when(
            new ApplyKeyConfigCommand(
                KEY, BillingMode.COUNT, new BigDecimal("-1"), 1000, PERIOD, true, T0))
        .expectNoEvents()
        .expectState(
            account -> {
              assertThat(account.state().countCredits()).isEqualTo(1100);
              assertThat(account.state().billingMode()).isEqualTo(BillingMode.HYBRID);
            });
  }

  @Test
  void changedConfigValueIsAppliedAndOnlyThatValue() {
    fixture
        .given(
            registered(BillingMode.COUNT, "-1", 1000),
            new BillingModeSet(KEY, T0, BillingMode.HYBRID, Origin.ADMIN))
        .when(
            new ApplyKeyConfigCommand(
                KEY, BillingMode.COUNT, new BigDecimal("25.5"), 2000, PERIOD, false, T0))
        .expectEvents(
            new CreditsGrantSet(KEY, T0, new BigDecimal("25.5")),
            new CountCreditsGrantSet(KEY, T0, 2000),
            new KeyDisabled(KEY, T0, "disabled in api.yaml", Origin.CONFIG))
        .expectState(
            account -> assertThat(account.state().billingMode()).isEqualTo(BillingMode.HYBRID));
  }

  @Test
  void countKeyIsChargedTheModelsCountPriceAndOneRequest() {
    fixture
        .given(registered(BillingMode.COUNT, "-1", 1000))
        .when(charge("r1", "gpt-4o", 1000, 500))
        .expectEvents(
            new RequestCharged(
                KEY,
                T0.plusSeconds(3),
                "r1",
                "gpt-4o",
                "/v1/chat/completions",
                "openai",
                T0.plusSeconds(2),
                BillingMode.COUNT,
                CostType.COUNT,
                1000,
                500,
                false,
                new BigDecimal("0.01"),
                1,
                null,
                new BigDecimal("0.01"),
                PRICES.version(),
                true))
        .expectState(account -> assertThat(account.state().countBalance()).contains(999L));
  }

  @Test
  void tokenChargeRecordsItsUnitPricesAndPriceVersion() {
    fixture
        .given(registered(BillingMode.TOKEN, "10", -1))
        .when(charge("r1", "gpt-4o", 1000, 500))
        .expectEvents(
            new RequestCharged(
                KEY,
                T0.plusSeconds(3),
                "r1",
                "gpt-4o",
                "/v1/chat/completions",
                "openai",
                T0.plusSeconds(2),
                BillingMode.TOKEN,
                CostType.TOKEN,
                1000,
                500,
                false,
                new BigDecimal("0.002000"),
                0,
                new TokenPrice(BigDecimal.ONE, new BigDecimal("2")),
                null,
                PRICES.version(),
                true))
        .expectState(
            account -> {
              assertThat(account.state().usdBalance())
                  .get()
                  .satisfies(left -> assertThat(left).isEqualByComparingTo("9.998"));
              assertThat(account.state().countBalance()).isEmpty();
            });
  }

  @Test
  void duplicateRequestIsChargedOnce() {
    InMemoryRequestIds ids = new InMemoryRequestIds();
    ids.claim(KEY, "r1");
    fixture = new AggregateTestFixture<>(KeyAccount.class);
    fixture.registerInjectableResource(PRICES);
    fixture.registerInjectableResource(ids);
    fixture.registerCommandTargetResolver(new KeyCommandTargetResolver());
    fixture
        .given(registered(BillingMode.COUNT, "-1", 1000))
        .when(charge("r1", "gpt-4o", 1000, 500))
        .expectNoEvents()
        .expectState(account -> assertThat(account.state().countBalance()).contains(1000L));
  }

  @Test
  void failedRequestIsRecordedButNotCharged() {
    fixture
        .given(registered(BillingMode.TOKEN, "10", -1))
        .when(
            new ChargeRequestCommand(KEY, request("r1", "gpt-4o", 0, 0, false), T0.plusSeconds(3)))
        .expectEvents(
            new RequestFailed(
                KEY,
                T0.plusSeconds(3),
                "r1",
                "gpt-4o",
                "/v1/chat/completions",
                "openai",
                502,
                T0.plusSeconds(2)))
        .expectState(
            account ->
                assertThat(account.state().usdBalance())
                    .get()
                    .satisfies(left -> assertThat(left).isEqualByComparingTo("10")));
  }

  @Test
  void countKeyWithNoCreditsLeftIsStillChargedWholeAndGoesNegative() {
    fixture
        .given(registered(BillingMode.COUNT, "0.005", 1))
        .when(charge("r1", "gpt-4o", 1, 1))
        .expectSuccessfulHandlerExecution()
        .expectState(
            account -> {
              assertThat(account.state().countBalance()).contains(0L);
              assertThat(account.state().usdBalance())
                  .get()
                  .satisfies(left -> assertThat(left).isEqualByComparingTo("-0.005"));
            });
  }

  @Test
  void hybridKeyIsChargedByTokensForAModelWithoutExplicitCountPrice() {
    fixture
        .given(registered(BillingMode.HYBRID, "5", 500))
        .when(charge("r1", "claude-3-5-sonnet", 2000, 1000))
        .expectState(
            account -> {
              assertThat(account.state().usdBalance())
                  .get()
                  .satisfies(left -> assertThat(left).isEqualByComparingTo("4.99928"));
              assertThat(account.state().countBalance()).contains(500L);
            });
  }

  @Test
  void estimatedUsageIsMarkedOnTheCharge() {
    RequestCompleted estimated = request("r9", "gpt-4o", 10, 20, true, true, T0.plusSeconds(2));
    fixture
        .given(registered(BillingMode.TOKEN, "10", -1))
        .when(new ChargeRequestCommand(KEY, estimated, T0.plusSeconds(3)))
        .expectEvents(
            new RequestCharged(
                KEY,
                T0.plusSeconds(3),
                "r9",
                "gpt-4o",
                "/v1/chat/completions",
                "openai",
                T0.plusSeconds(2),
                BillingMode.TOKEN,
                CostType.TOKEN,
                10,
                20,
                true,
                new BigDecimal("0.000050"),
                0,
                new TokenPrice(BigDecimal.ONE, new BigDecimal("2")),
                null,
                PRICES.version(),
                true));
  }

  @Test
  void requestCompletedBeforeThePeriodIsRecordedButNotSpent() {
    RequestCompleted old = request("old", "gpt-4o", 10, 20, true, false, PERIOD.minusSeconds(5));
    fixture
        .given(registered(BillingMode.COUNT, "-1", 1000))
        .when(new ChargeRequestCommand(KEY, old, T0))
        .expectState(account -> assertThat(account.state().countBalance()).contains(1000L));
  }

  @Test
  void topUpsGrowTheGrant() {
    fixture
        .given(registered(BillingMode.TOKEN, "10", 5))
        .when(new AddCreditsCommand(KEY, new BigDecimal("2.5"), "paid", T0))
        .expectEvents(
            new CreditsAdded(KEY, T0, new BigDecimal("2.5"), new BigDecimal("12.5"), "paid"));
    fixture
        .given(registered(BillingMode.COUNT, "10", 5))
        .when(new AddCountCreditsCommand(KEY, 100, "paid", T0))
        .expectEvents(new CountCreditsAdded(KEY, T0, 100, 105, "paid"));
  }

  @Test
  void topUpOfAnUnlimitedBalanceIsRefusedNamingTheKey() {
    fixture
        .given(registered(BillingMode.COUNT, "-1", -1))
        .when(new AddCountCreditsCommand(KEY, 100, "paid", T0))
        .expectException(AccountRefusedException.class)
        .expectExceptionMessage(
            "key "
                + KEY
                + ": its request balance is unlimited (-1); there is nothing to add 100 to")
        .expectNoEvents();
  }

  @Test
  void nonPositiveTopUpIsRefused() {
    fixture
        .given(registered(BillingMode.TOKEN, "10", 5))
        .when(new AddCreditsCommand(KEY, new BigDecimal("-1"), "oops", T0))
        .expectException(AccountRefusedException.class)
        .expectNoEvents();
  }

  @Test
  void settingTheSameModeRecordsNothingAndANewModeIsAnAdminEvent() {
    fixture
        .given(registered(BillingMode.TOKEN, "10", 5))
        .when(new SetBillingModeCommand(KEY, BillingMode.TOKEN, T0))
        .expectNoEvents();
    fixture
        .given(registered(BillingMode.TOKEN, "10", 5))
        .when(new SetBillingModeCommand(KEY, BillingMode.COUNT, T0))
        .expectEvents(new BillingModeSet(KEY, T0, BillingMode.COUNT, Origin.ADMIN));
  }

  @Test
  void newBillingPeriodStartsSpendingFromZero() {
    Instant next = Instant.parse("2026-12-01T00:00:00Z");
    fixture
        .given(registered(BillingMode.COUNT, "-1", 10), chargedEvent("r1"))
        .when(new StartBillingPeriodCommand(KEY, next, T0))
        .expectEvents(new BillingPeriodStarted(KEY, T0, next, Origin.ADMIN))
        .expectState(account -> assertThat(account.state().countBalance()).contains(10L));
  }

  @Test
  void disablingIsRecordedOnce() {
    fixture
        .given(
            registered(BillingMode.TOKEN, "10", 5), new KeyDisabled(KEY, T0, "fraud", Origin.ADMIN))
        .when(new DisableKeyCommand(KEY, "again", T0))
        .expectNoEvents();
  }

  @Test
  void correctionIsACompensatingEventRecordedOnce() {
    CorrectChargeCommand refund =
        new CorrectChargeCommand(
            KEY, "c1", "r1", new BigDecimal("-0.01"), -1, "upstream outage", T0);
    fixture
        .given(registered(BillingMode.COUNT, "-1", 10), chargedEvent("r1"))
        .when(refund)
        .expectEvents(
            new ChargeCorrected(
                KEY, T0, "c1", "r1", new BigDecimal("-0.01"), -1, "upstream outage"))
        .expectState(account -> assertThat(account.state().countBalance()).contains(10L));
    fixture
        .given(
            registered(BillingMode.COUNT, "-1", 10),
            chargedEvent("r1"),
            new ChargeCorrected(
                KEY, T0, "c1", "r1", new BigDecimal("-0.01"), -1, "upstream outage"))
        .when(refund)
        .expectNoEvents();
  }

  private static RequestCharged chargedEvent(String id) {
    return new RequestCharged(
        KEY,
        T0,
        id,
        "gpt-4o",
        "/v1/chat/completions",
        "openai",
        T0,
        BillingMode.COUNT,
        CostType.COUNT,
        1,
        1,
        false,
        new BigDecimal("0.01"),
        1,
        null,
        new BigDecimal("0.01"),
        PRICES.version(),
        true);
  }
}
