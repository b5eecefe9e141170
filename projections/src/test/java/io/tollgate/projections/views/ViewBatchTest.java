package io.tollgate.projections.views;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.BillingMode;
import io.tollgate.config.TokenPrice;
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
import io.tollgate.ledger.account.AccountEvent.Origin;
import io.tollgate.ledger.account.AccountEvent.RequestCharged;
import io.tollgate.ledger.account.AccountEvent.RequestFailed;
import io.tollgate.ledger.account.AccountState;
import io.tollgate.ledger.pricing.CostType;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The views' fold as a plain object: no database, no Axon. */
class ViewBatchTest {

  private static final String KEY = "key_a";
  private static final Instant T0 = Instant.parse("2026-11-01T10:15:00Z");

  private static KeyRegistered registered(String key, String credits, long count) {
    return new KeyRegistered(
        key, T0, BillingMode.COUNT, new BigDecimal(credits), count, null, true);
  }

  private static RequestCharged charge(
      String key, String model, String usd, long requests, Instant completed, boolean inPeriod) {
    return new RequestCharged(
        key,
        completed,
        "r-" + completed.toEpochMilli() + "-" + usd,
        model,
        "/v1/chat/completions",
        "openai",
        completed,
        BillingMode.COUNT,
        requests == 1 ? CostType.COUNT : CostType.TOKEN,
        1000,
        500,
        false,
        new BigDecimal(usd),
        requests,
        new TokenPrice(BigDecimal.ONE, BigDecimal.valueOf(2)),
        new BigDecimal("0.01"),
        "v1",
        inPeriod);
  }

  private static ViewBatch fold(List<AccountEvent> events, Map<String, KeyStateRow> stored) {
    return fold(events, stored, 1);
  }

  /** The events at global indexes {@code first}, {@code first + 1}, and so on. */
  private static ViewBatch fold(
      List<AccountEvent> events, Map<String, KeyStateRow> stored, long first) {
    ViewBatch batch = new ViewBatch();
    long index = first;
    for (AccountEvent e : events) {
      batch.add(e, index++);
    }
    batch.fold(stored::get);
    return batch;
  }

  @Test
  void chargesInThePeriodAreSpentAndEveryChargeIsBucketedByHour() {
    ViewBatch batch =
        fold(
            List.of(
                registered(KEY, "-1", 1000),
                charge(KEY, "gpt-4o", "0.01", 1, T0.plusSeconds(60), true),
                charge(KEY, "gpt-4o", "0.01", 1, T0.plusSeconds(3600), true),
                charge(KEY, "gpt-4o", "0.01", 1, T0.minusSeconds(86400), false),
                new RequestFailed(
                    KEY,
                    T0,
                    "f1",
                    "gpt-4o",
                    "/v1/chat/completions",
                    "openai",
                    502,
                    T0.plusSeconds(61))),
            Map.of());

    KeyStateRow row = batch.keyRows().iterator().next();
    assertThat(row.spentUsd()).isEqualByComparingTo("0.02");
    assertThat(row.spentRequests()).isEqualTo(2);
    assertThat(row.countBalance()).isEqualTo(998L);
    assertThat(row.usdBalance()).isNull();

    assertThat(batch.buckets()).hasSize(3);
    UsageDelta tenOClock =
        batch
            .buckets()
            .get(
                new ViewBatch.BucketKey(
                    Instant.parse("2026-11-01T10:00:00Z"), KEY, "gpt-4o", "/v1/chat/completions"));
    assertThat(tenOClock.requests()).isEqualTo(2);
    assertThat(tenOClock.successes()).isEqualTo(1);
    assertThat(tenOClock.cost()).isEqualByComparingTo("0.01");

    UsageDelta period = batch.periodUsage().get(new ViewBatch.PeriodKey(KEY, "gpt-4o", "count"));
    assertThat(period.requests()).isEqualTo(2);
    assertThat(period.cost()).isEqualByComparingTo("0.02");
    assertThat(batch.history()).hasSize(5);
    assertThat(batch.history().get(2).countBalanceAfter()).isEqualTo(998L);
  }

  @Test
  void aNewPeriodForgetsWhatTheOldOneSpentIncludingThisBatchsDeltas() {
    ViewBatch batch =
        fold(
            List.of(
                registered(KEY, "5", 500),
                charge(KEY, "gpt-4o", "0.01", 1, T0.plusSeconds(1), true),
                new BillingPeriodStarted(KEY, T0.plusSeconds(2), T0.plusSeconds(2), Origin.ADMIN),
                charge(KEY, "gpt-4o", "0.01", 1, T0.plusSeconds(3), true)),
            Map.of());

    KeyStateRow row = batch.keyRows().iterator().next();
    assertThat(row.spentUsd()).isEqualByComparingTo("0.01");
    assertThat(row.usdBalance()).isEqualByComparingTo("4.99");
    assertThat(batch.periodResets()).containsExactly(KEY);
    assertThat(batch.periodUsage().get(new ViewBatch.PeriodKey(KEY, "gpt-4o", "count")).requests())
        .isEqualTo(1);
  }

  /** A token key's stored row: 10 USD granted, 1.5 spent, last event at global index 7. */
  private static KeyStateRow storedTokenRow() {
    return new KeyStateRow(
        KEY,
        BillingMode.TOKEN,
        new BigDecimal("10"),
        -1,
        null,
        true,
        new BigDecimal("1.5"),
        0,
        T0,
        T0,
        7);
  }

  @Test
  void aBatchContinuesFromTheStoredRow() {
    ViewBatch batch =
        fold(
            List.of(
                new CreditsAdded(KEY, T0, new BigDecimal("2.5"), new BigDecimal("12.5"), "paid")),
            Map.of(KEY, storedTokenRow()),
            8);
    HistoryRow top = batch.history().get(0);
    assertThat(top.eventType()).isEqualTo("credits_added");
    assertThat(top.usd()).isEqualByComparingTo("2.5");
    assertThat(top.balanceAfter()).isEqualByComparingTo("11");
    assertThat(top.countBalanceAfter()).isNull();
  }

  @Test
  void anEventDeliveredTwiceInABatchIsAppliedOnce() {
    RequestCharged charge = charge(KEY, "gpt-4o", "0.01", 1, T0.plusSeconds(1), true);
    ViewBatch batch = new ViewBatch();
    batch.add(registered(KEY, "5", 500), 1);
    batch.add(charge, 2);
    batch.add(charge, 2);
    batch.fold(key -> null);

    KeyStateRow row = batch.keyRows().iterator().next();
    assertThat(row.spentUsd()).isEqualByComparingTo("0.01");
    assertThat(row.countBalance()).isEqualTo(499L);
    assertThat(batch.history()).extracting(HistoryRow::globalIndex).containsExactly(1L, 2L);
    assertThat(batch.buckets().values())
        .singleElement()
        .extracting(UsageDelta::requests)
        .isEqualTo(1L);
    assertThat(batch.skipped()).isEqualTo(1);
  }

  @Test
  void anEventTheStoredRowAlreadyHoldsIsPassedOver() {
    ViewBatch batch = new ViewBatch();
    batch.add(new CreditsAdded(KEY, T0, new BigDecimal("2.5"), new BigDecimal("12.5"), "paid"), 6);
    batch.add(new CreditsAdded(KEY, T0, new BigDecimal("1"), new BigDecimal("11"), "paid"), 7);
    batch.add(new CreditsAdded(KEY, T0, new BigDecimal("3"), new BigDecimal("13"), "paid"), 8);
    batch.fold(Map.of(KEY, storedTokenRow())::get);

    assertThat(batch.history()).extracting(HistoryRow::globalIndex).containsExactly(8L);
    assertThat(batch.keyRows().iterator().next().usdBalance()).isEqualByComparingTo("11.5");
    assertThat(batch.skipped()).isEqualTo(2);
  }

  @Test
  void eventsAddedByIdentifierTakeTheIndexesTheStoreGives() {
    ViewBatch batch = new ViewBatch();
    batch.add(registered(KEY, "5", 500), "e-1");
    // Delivered after a later event of another key: it filled a gap in the global index.
    batch.add(charge(KEY, "gpt-4o", "0.01", 1, T0.plusSeconds(1), true), "e-2");
    assertThat(batch.unresolvedIds()).containsExactlyInAnyOrder("e-1", "e-2");

    batch.resolve(Map.of("e-1", 40L, "e-2", 42L, "other", 41L));
    batch.fold(key -> null);

    assertThat(batch.history()).extracting(HistoryRow::globalIndex).containsExactly(40L, 42L);
    assertThat(batch.keyRows().iterator().next().lastGlobalIndex()).isEqualTo(42L);
  }

  @Test
  void anEventTheStoreDoesNotHoldCannotBePlaced() {
    ViewBatch batch = new ViewBatch();
    batch.add(registered(KEY, "5", 500), "e-1");
    batch.add(charge(KEY, "gpt-4o", "0.01", 1, T0.plusSeconds(1), true), "e-2");

    assertThatThrownBy(() -> batch.resolve(Map.of("e-1", 40L)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("e-2");
    assertThatThrownBy(() -> batch.fold(key -> null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("before it was resolved");
  }

  @Test
  void anEventOfAKeyNeverRegisteredStopsTheBatch() {
    assertThatThrownBy(() -> fold(List.of(charge(KEY, "gpt-4o", "0.01", 1, T0, true)), Map.of()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("unregistered key " + KEY);
  }

  /** Random histories folded both ways must agree with the ledger's own rules on every balance. */
  @Test
  void keyRowsAgreeWithTheLedgersFoldOnRandomHistories() {
    Random random = new Random(42);
    for (int run = 0; run < 300; run++) {
      List<AccountEvent> events = randomHistory(random);
      AccountState ledger = null;
      for (AccountEvent e : events) {
        ledger = AccountState.evolve(ledger, e);
      }
      // Split the history over batches, as the processor does, with the stored rows in between.
      Map<String, KeyStateRow> stored = new HashMap<>();
      int from = 0;
      long index = 1;
      while (from < events.size()) {
        int to = Math.min(events.size(), from + 1 + random.nextInt(5));
        ViewBatch batch = new ViewBatch();
        for (AccountEvent e : events.subList(from, to)) {
          batch.add(e, index++);
        }
        batch.fold(stored::get);
        batch.keyRows().forEach(r -> stored.put(r.keyId(), r));
        from = to;
      }
      KeyStateRow row = stored.get(KEY);
      assertThat(row.spentUsd()).as("run %d", run).isEqualByComparingTo(ledger.spentUsd());
      assertThat(row.spentRequests()).isEqualTo(ledger.spentRequests());
      assertThat(row.credits()).isEqualByComparingTo(ledger.credits());
      assertThat(row.countCredits()).isEqualTo(ledger.countCredits());
      assertThat(row.billingMode()).isEqualTo(ledger.billingMode());
      assertThat(row.enabled()).isEqualTo(ledger.enabled());
      assertThat(row.periodStart()).isEqualTo(ledger.periodStart());
      assertThat(row.usdBalance()).isEqualTo(ledger.usdBalance().orElse(null));
      assertThat(row.countBalance()).isEqualTo(ledger.countBalance().orElse(null));
    }
  }

  private static List<AccountEvent> randomHistory(Random random) {
    List<AccountEvent> events = new ArrayList<>();
    events.add(
        registered(KEY, random.nextBoolean() ? "-1" : "10.5", random.nextBoolean() ? -1 : 100));
    Instant t = T0;
    for (int i = 0; i < 40; i++) {
      t = t.plusSeconds(random.nextInt(4000));
      String usd = BigDecimal.valueOf(random.nextInt(100000), 7).toPlainString();
      events.add(
          switch (random.nextInt(10)) {
            case 0 -> new CreditsGrantSet(KEY, t, BigDecimal.valueOf(random.nextInt(50)));
            case 1 -> new CountCreditsGrantSet(KEY, t, random.nextInt(50) - 1);
            case 2 ->
                new CreditsAdded(
                    KEY,
                    t,
                    new BigDecimal("1.25"),
                    BigDecimal.valueOf(random.nextInt(90), 1),
                    "top-up");
            case 3 -> new CountCreditsAdded(KEY, t, 10, random.nextInt(300), "top-up");
            case 4 ->
                new BillingModeSet(KEY, t, BillingMode.values()[random.nextInt(3)], Origin.ADMIN);
            case 5 ->
                new BillingPeriodStarted(
                    KEY, t, t.minusSeconds(random.nextInt(100)), Origin.CONFIG);
            case 6 ->
                random.nextBoolean()
                    ? new KeyDisabled(KEY, t, "x", Origin.ADMIN)
                    : new KeyEnabled(KEY, t, "y", Origin.ADMIN);
            case 7 ->
                new ChargeCorrected(
                    KEY, t, "c" + i, "r" + i, new BigDecimal(usd).negate(), -1, "refund");
            default ->
                charge(
                    KEY, "m" + random.nextInt(3), usd, random.nextInt(2), t, random.nextInt(5) > 0);
          });
    }
    return events;
  }
}
