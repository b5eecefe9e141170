package io.tollgate.projections;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.BillingMode;
import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.account.AccountCommands.AddCountCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.AddCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.account.AccountCommands.CorrectChargeCommand;
import io.tollgate.ledger.account.AccountCommands.SetBillingModeCommand;
import io.tollgate.ledger.account.AccountCommands.StartBillingPeriodCommand;
import io.tollgate.ledger.account.AccountEvent.CountCreditsAdded;
import io.tollgate.ledger.infrastructure.CommandBatcher;
import io.tollgate.projections.query.ViewQueries;
import io.tollgate.projections.status.ViewRebuild;
import io.tollgate.projections.status.ViewStatus;
import io.tollgate.projections.views.HistoryRow;
import io.tollgate.projections.views.KeyStateRow;
import io.tollgate.projections.views.LedgerViews;
import io.tollgate.testing.TestPostgres;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.axonframework.messaging.MetaData;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.Serializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/** Each view against real PostgreSQL, fed by the real ledger through the views processor. */
class ViewsStoreTest {

  private static final String COUNT_KEY = KeyIds.of("sk-count-user-key");
  private static final String TOKEN_KEY = KeyIds.of("sk-token-user-key");
  private static final String HYBRID_KEY = KeyIds.of("sk-hybrid-user-key");

  private final TestPostgres.Database database = TestPostgres.newDatabase();
  private ConfigurableApplicationContext app;

  private void start(String... extra) {
    List<String> properties =
        new ArrayList<>(
            List.of(
                "spring.datasource.url=" + database.jdbcUrl(),
                "spring.datasource.username=" + database.username(),
                "spring.datasource.password=" + database.password()));
    properties.addAll(List.of(extra));
    app =
        new SpringApplicationBuilder(ProjectionsTestApplication.class)
            .properties(properties.toArray(String[]::new))
            .run();
    caughtUp();
  }

  @AfterEach
  void stop() {
    if (app != null) {
      app.close();
    }
  }

  private void caughtUp() {
    assertThat(app.getBean(ViewStatus.class).awaitCaughtUp(Duration.ofMinutes(2))).isTrue();
  }

  private ViewQueries views() {
    return app.getBean(ViewQueries.class);
  }

  private static RequestCompleted request(
      String keyId,
      String id,
      String model,
      long prompt,
      long completion,
      boolean success,
      Instant end) {
    return new RequestCompleted(
        id,
        keyId,
        model,
        "/v1/chat/completions",
        "openai",
        success,
        success ? 200 : 502,
        prompt,
        completion,
        false,
        end.minusMillis(300),
        end);
  }

  private void send(Object... commands) {
    assertThat(app.getBean(CommandBatcher.class).dispatchAll(List.of(commands)))
        .allMatch(CommandBatcher.Outcome::succeeded);
    caughtUp();
  }

  private KeyStateRow state(String keyId) {
    return views().keyState(keyId).orElseThrow();
  }

  @Test
  void everyConfiguredKeyHasARowWithItsGrants() {
    start();
    assertThat(views().keyStates()).hasSize(5);
    KeyStateRow count = state(COUNT_KEY);
    assertThat(count.billingMode()).isEqualTo(BillingMode.COUNT);
    assertThat(count.countCredits()).isEqualTo(1000);
    assertThat(count.credits()).isEqualByComparingTo("-1");
    assertThat(count.createdAt()).isEqualTo(Instant.parse("2023-12-31T16:00:00Z"));
  }

  @Test
  void chargesTopUpsAndModeChangesReachEveryViewAndReconcile() {
    start();
    Instant now = Instant.now();
    List<Object> commands = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      commands.add(
          new ChargeRequestCommand(
              COUNT_KEY, request(COUNT_KEY, "c" + i, "gpt-4o", 10, 10, true, now), now));
    }
    commands.add(
        new ChargeRequestCommand(
            COUNT_KEY, request(COUNT_KEY, "f1", "gpt-4o", 0, 0, false, now), now));
    commands.add(
        new ChargeRequestCommand(
            HYBRID_KEY,
            request(HYBRID_KEY, "h1", "claude-3-5-sonnet", 2000, 1000, true, now),
            now));
    commands.add(
        new ChargeRequestCommand(
            TOKEN_KEY, request(TOKEN_KEY, "t1", "gpt-4o", 1000, 500, true, now), now));
    commands.add(new AddCountCreditsCommand(COUNT_KEY, 100, "paid", now));
    commands.add(new SetBillingModeCommand(TOKEN_KEY, BillingMode.HYBRID, now));
    commands.add(
        new CorrectChargeCommand(
            TOKEN_KEY, "fix-1", "t1", new BigDecimal("-0.001"), 0, "goodwill", now));
    send(commands.toArray());

    KeyStateRow count = state(COUNT_KEY);
    assertThat(count.spentUsd()).isEqualByComparingTo("0.05");
    assertThat(count.countCredits()).isEqualTo(1100);
    assertThat(count.countBalance()).isEqualTo(1095L);
    assertThat(state(HYBRID_KEY).spentUsd()).isEqualByComparingTo("0.00072");
    assertThat(state(HYBRID_KEY).usdBalance()).isEqualByComparingTo("4.99928");
    assertThat(state(TOKEN_KEY).billingMode()).isEqualTo(BillingMode.HYBRID);
    assertThat(state(TOKEN_KEY).spentUsd()).isEqualByComparingTo("0.001");

    List<ViewQueries.PeriodUsage> details = views().periodUsage(COUNT_KEY);
    assertThat(details)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.model()).isEqualTo("gpt-4o");
              assertThat(d.costType()).isEqualTo("count");
              assertThat(d.requestCount()).isEqualTo(5);
              assertThat(d.cost()).isEqualByComparingTo("0.05");
            });

    List<ViewQueries.ModelUsage> usage =
        views().tokenUsage(COUNT_KEY, null, now.minusSeconds(7200), now.plusSeconds(3600));
    assertThat(usage)
        .singleElement()
        .satisfies(
            u -> {
              assertThat(u.requestCount()).isEqualTo(5);
              assertThat(u.failedCount()).isEqualTo(1);
              assertThat(u.promptTokens()).isEqualTo(50);
            });

    List<HistoryRow> history = views().history(COUNT_KEY, null, null, null, 100);
    assertThat(history).hasSize(8);
    assertThat(history.get(0).eventType()).isEqualTo("count_credits_added");
    assertThat(history.get(0).countBalanceAfter()).isEqualTo(1095L);
    assertThat(history.get(history.size() - 1).eventType()).isEqualTo("key_registered");
    HistoryRow charge =
        history.stream().filter(h -> "c0".equals(h.requestId())).findFirst().orElseThrow();
    assertThat(charge.countPrice()).isEqualByComparingTo("0.01");
    assertThat(charge.priceVersion()).isNotBlank();

    List<HistoryRow> page = views().history(COUNT_KEY, history.get(2).globalIndex(), null, null, 2);
    assertThat(page)
        .extracting(HistoryRow::globalIndex)
        .containsExactly(history.get(3).globalIndex(), history.get(4).globalIndex());

    assertThat(views().inconsistencies()).isEmpty();
  }

  @Test
  void aNewPeriodEmptiesTheKeysSpendingAndTheHistoryStillReconciles() {
    start();
    Instant now = Instant.now();
    send(
        new ChargeRequestCommand(
            TOKEN_KEY, request(TOKEN_KEY, "p1", "gpt-4o", 1000, 500, true, now), now),
        new StartBillingPeriodCommand(TOKEN_KEY, now.plusSeconds(1), now.plusSeconds(1)));
    assertThat(state(TOKEN_KEY).spentUsd()).isEqualByComparingTo("0");
    assertThat(views().periodUsage(TOKEN_KEY)).isEmpty();
    Instant later = now.plusSeconds(2);
    send(
        new ChargeRequestCommand(
            TOKEN_KEY, request(TOKEN_KEY, "p2", "gpt-4o", 1000, 500, true, later), later));
    assertThat(state(TOKEN_KEY).spentUsd()).isEqualByComparingTo("0.002");
    assertThat(views().inconsistencies()).isEmpty();
  }

  @Test
  void rebuiltViewsEqualTheOldOnesExactlyAndARestartAppliesNothingTwice() {
    rebuildAndCompare();
  }

  @Test
  void theProcessorsOwnReplayRebuildsTheSameViews() {
    rebuildAndCompare("tollgate.projections.rebuild-mode=processor");
  }

  /**
   * A processor-mode rebuild cannot take the segment from another ledger node that holds it: it
   * must fail in the progress, leave the views as they were and start the processor again, not
   * leave it stopped.
   */
  @Test
  void aProcessorReplayWhileAnotherNodeHoldsTheSegmentFailsAndTheProcessorRunsOn()
      throws Exception {
    start("tollgate.projections.rebuild-mode=processor");
    send(new AddCountCreditsCommand(COUNT_KEY, 7, "paid", Instant.now()));
    Map<String, List<Map<String, Object>>> before = snapshot();
    ViewStatus status = app.getBean(ViewStatus.class);
    status.processor().shutDown();
    JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
    // The claim of a node that is alive: Axon's token store timestamps a claim as this ISO text.
    jdbc.update(
        "UPDATE token_entry SET owner = 'the-other-node', timestamp = ? WHERE processor_name = ?",
        Instant.now().toString(),
        LedgerViews.PROCESSOR);

    ViewRebuild rebuild = app.getBean(ViewRebuild.class);
    assertThat(rebuild.start()).isTrue();
    while (rebuild.isRunning()) {
      Thread.sleep(10);
    }
    assertThat(rebuild.progress().error()).contains("the-other-node");
    assertThat(status.processor().isRunning()).as("views processor running").isTrue();
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void aRebuildThatFailsLeavesTheViewsAndTheProcessorAsTheyWere() {
    start();
    Instant now = Instant.now();
    send(
        new ChargeRequestCommand(
            TOKEN_KEY, request(TOKEN_KEY, "f1", "gpt-4o", 1000, 500, true, now), now),
        new AddCountCreditsCommand(COUNT_KEY, 7, "paid", now));
    Map<String, List<Map<String, Object>>> before = snapshot();
    // An event a newer ledger wrote, of a type this build does not know: the processor passes
    // over it, a rebuild must not pretend to have rebuilt the views without it.
    JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
    jdbc.update(
        "INSERT INTO domain_event_entry (aggregate_identifier, sequence_number, type, "
            + "event_identifier, meta_data, payload, payload_type, time_stamp) "
            + "VALUES (?, 0, 'KeyAccount', ?, ?, ?, ?, ?)",
        "key_from_the_future",
        UUID.randomUUID().toString(),
        "{}".getBytes(StandardCharsets.UTF_8),
        "{}".getBytes(StandardCharsets.UTF_8),
        "io.tollgate.ledger.account.AccountEvent$FromTheFuture",
        now.toString());
    caughtUp();
    assertThat(app.getBean(LedgerViews.class).unknownEvents()).isEqualTo(1);
    assertThat(snapshot()).as("the live views pass over it").isEqualTo(before);

    ViewRebuild rebuild = app.getBean(ViewRebuild.class);
    assertThat(rebuild.start()).isTrue();
    while (rebuild.isRunning()) {
      Thread.onSpinWait();
    }
    assertThat(rebuild.progress().error()).contains("AccountEvent$FromTheFuture");
    assertThat(snapshot()).isEqualTo(before);
    assertThat(
            jdbc.queryForList(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'rebuild\\_%'", String.class))
        .isEmpty();

    // The processor goes on from where it was.
    send(new AddCountCreditsCommand(COUNT_KEY, 1, "after the failed rebuild", Instant.now()));
    assertThat(state(COUNT_KEY).countCredits())
        .isEqualTo(
            before.get("api_keys_states").stream()
                .filter(row -> row.get("key_id").equals(COUNT_KEY))
                .map(row -> ((Number) row.get("count_credits")).longValue() + 1)
                .findFirst()
                .orElseThrow());
    assertThat(views().inconsistencies()).isEmpty();
  }

  /**
   * An event whose transaction commits after later events fills a gap in the global index. Axon
   * delivers it with a token whose position is the highest index seen, not the event's own; the
   * views must still file it under its own index, and must not stop.
   */
  @Test
  void anEventThatFillsAGapIsFiledUnderItsOwnIndexAndWaitedFor() throws Exception {
    start();
    JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
    long credits = state(COUNT_KEY).countCredits();
    long sequence =
        jdbc.queryForObject(
            "SELECT max(sequence_number) FROM domain_event_entry WHERE aggregate_identifier = ?",
            Long.class,
            COUNT_KEY);
    Serializer serializer = app.getBean("eventSerializer", Serializer.class);
    Instant now = Instant.now();
    SerializedObject<byte[]> payload =
        serializer.serialize(
            new CountCreditsAdded(COUNT_KEY, now, 5, credits + 5, "held back"), byte[].class);
    byte[] metaData = serializer.serialize(MetaData.emptyInstance(), byte[].class).getData();

    long heldBack;
    try (Connection held = app.getBean(DataSource.class).getConnection()) {
      held.setAutoCommit(false);
      try (PreparedStatement insert =
          held.prepareStatement(
              "INSERT INTO domain_event_entry (aggregate_identifier, sequence_number, type, "
                  + "event_identifier, meta_data, payload, payload_type, time_stamp) "
                  + "VALUES (?, ?, 'KeyAccount', ?, ?, ?, ?, ?) RETURNING global_index")) {
        insert.setString(1, COUNT_KEY);
        insert.setLong(2, sequence + 1);
        insert.setString(3, UUID.randomUUID().toString());
        insert.setBytes(4, metaData);
        insert.setBytes(5, payload.getData());
        insert.setString(6, payload.getType().getName());
        insert.setString(7, now.toString());
        try (ResultSet rs = insert.executeQuery()) {
          rs.next();
          heldBack = rs.getLong(1);
        }
      }
      // Later indexes committed and applied while the held-back event is still a gap.
      send(
          new AddCreditsCommand(TOKEN_KEY, BigDecimal.ONE, "after the gap", now),
          new AddCreditsCommand(TOKEN_KEY, BigDecimal.TEN, "after the gap", now));
      assertThat(state(TOKEN_KEY).lastGlobalIndex()).isGreaterThan(heldBack);
      held.commit();
    }

    // The position is past the held-back index already; waiting must still wait for it.
    ViewStatus status = app.getBean(ViewStatus.class);
    assertThat(status.position().getAsLong()).isGreaterThan(heldBack);
    assertThat(status.awaitCaughtUp(Duration.ofSeconds(30))).as("views caught up").isTrue();
    assertThat(status.inError()).as("views processor in error").isFalse();
    assertThat(state(COUNT_KEY).countCredits()).isEqualTo(credits + 5);
    assertThat(
            jdbc.queryForObject(
                "SELECT global_index FROM billing_history WHERE reason = 'held back'", Long.class))
        .isEqualTo(heldBack);
    assertThat(state(COUNT_KEY).lastGlobalIndex()).isEqualTo(heldBack);
    assertThat(views().inconsistencies()).isEmpty();
  }

  /**
   * Three writers committing batches at once leave gaps in the global index that fill out of order,
   * which is when Axon's event stream delivers some events twice. The views must neither stop on
   * such an event nor count it again.
   */
  @Test
  void concurrentWritersNeitherStopTheViewsNorCountAnEventTwice() throws Exception {
    start();
    Instant now = Instant.now();
    send(
        new AddCreditsCommand(TOKEN_KEY, new BigDecimal("100000"), "load", now),
        new AddCountCreditsCommand(COUNT_KEY, 1_000_000, "load", now),
        new AddCreditsCommand(HYBRID_KEY, new BigDecimal("100000"), "load", now),
        new AddCountCreditsCommand(HYBRID_KEY, 1_000_000, "load", now));
    CommandBatcher batcher = app.getBean(CommandBatcher.class);
    int batches = 40;
    int perBatch = 100;
    ExecutorService writers = Executors.newFixedThreadPool(3);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (String key : List.of(COUNT_KEY, TOKEN_KEY, HYBRID_KEY)) {
        done.add(
            writers.submit(
                () -> {
                  for (int b = 0; b < batches; b++) {
                    List<Object> batch = new ArrayList<>();
                    for (int i = 0; i < perBatch; i++) {
                      String id = key + "-" + b + "-" + i;
                      batch.add(
                          new ChargeRequestCommand(
                              key, request(key, id, "gpt-4o", 100, 50, true, now), now));
                    }
                    assertThat(batcher.dispatchAll(batch))
                        .allMatch(CommandBatcher.Outcome::succeeded);
                  }
                  return null;
                }));
      }
      for (Future<?> writer : done) {
        writer.get(5, TimeUnit.MINUTES);
      }
    } finally {
      writers.shutdownNow();
    }

    ViewStatus status = app.getBean(ViewStatus.class);
    assertThat(status.awaitCaughtUp(Duration.ofSeconds(60))).as("views caught up").isTrue();
    assertThat(status.inError()).isFalse();
    JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
    assertThat(
            jdbc.queryForObject(
                "SELECT count(*) FROM billing_history WHERE event_type = 'request_charged'",
                Long.class))
        .isEqualTo(3L * batches * perBatch);
    assertThat(views().inconsistencies()).isEmpty();
    Map<String, List<Map<String, Object>>> live = snapshot();
    ViewRebuild rebuild = app.getBean(ViewRebuild.class);
    assertThat(rebuild.start()).isTrue();
    while (rebuild.isRunning()) {
      Thread.onSpinWait();
    }
    assertThat(snapshot()).as("the views against a rebuild from the store").isEqualTo(live);
  }

  private void rebuildAndCompare(String... mode) {
    start(mode);
    Instant now = Instant.now();
    List<Object> commands = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      String key = List.of(COUNT_KEY, TOKEN_KEY, HYBRID_KEY).get(i % 3);
      commands.add(
          new ChargeRequestCommand(
              key,
              request(
                  key,
                  "r" + i,
                  i % 2 == 0 ? "gpt-4o" : "claude-3-5-sonnet",
                  100 + i,
                  7 * i,
                  i % 11 != 0,
                  now.minusSeconds(600L * i)),
              now));
    }
    commands.add(new AddCountCreditsCommand(HYBRID_KEY, 5, "paid", now));
    send(commands.toArray());
    Map<String, List<Map<String, Object>>> before = snapshot();

    ViewRebuild rebuild = app.getBean(ViewRebuild.class);
    assertThat(rebuild.start()).isTrue();
    while (rebuild.isRunning()) {
      Thread.onSpinWait();
    }
    ViewRebuild.Progress progress = rebuild.progress();
    assertThat(progress.eventsDone()).isEqualTo(progress.eventsTotal());
    assertThat(snapshot()).isEqualTo(before);

    // The processor goes on from the rebuilt views: a new event lands once.
    send(new AddCountCreditsCommand(HYBRID_KEY, 1, "after the rebuild", Instant.now()));
    assertThat(state(HYBRID_KEY).countCredits()).isEqualTo(506);
    before = snapshot();

    app.close();
    start(mode);
    assertThat(snapshot()).isEqualTo(before);
    assertThat(views().inconsistencies()).isEmpty();
  }

  private Map<String, List<Map<String, Object>>> snapshot() {
    JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
    return Map.of(
        "api_keys_states", jdbc.queryForList("SELECT * FROM api_keys_states ORDER BY key_id"),
        "key_period_usage",
            jdbc.queryForList("SELECT * FROM key_period_usage ORDER BY key_id, model, cost_type"),
        "token_usage",
            jdbc.queryForList("SELECT * FROM token_usage ORDER BY bucket, key_id, model, endpoint"),
        "billing_history",
            jdbc.queryForList("SELECT * FROM billing_history ORDER BY global_index"));
  }
}
