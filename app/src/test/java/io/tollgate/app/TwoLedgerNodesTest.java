package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.account.AccountCommands.AddCountCreditsCommand;
import io.tollgate.ledger.infrastructure.CommandBatcher;
import io.tollgate.projections.query.ViewQueries;
import io.tollgate.projections.status.ViewRebuild;
import io.tollgate.projections.status.ViewStatus;
import io.tollgate.projections.views.KeyStateRow;
import io.tollgate.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.event.ApplicationContextInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The production topology's ledger side: two ledger nodes (with the views) on one database and one
 * replicated Kafka cluster, started together. An admin top-up lands on each node for a key only one
 * of them has been charging, so one of the two decides on a stale cached account; the views are
 * rebuilt while the other node takes over their segment; then one node stops mid-stream and the
 * other takes over its partitions, with the batches it had not committed delivered again. Every
 * request must be charged exactly once and the views must end equal to the events.
 */
class TwoLedgerNodesTest {

  private static final String TOPIC = "tollgate.requests";
  private static final List<String> KEYS =
      List.of(KeyIds.of("sk-e2e-count"), KeyIds.of("sk-e2e-token"), KeyIds.of("sk-e2e-hybrid"));
  private static final String COUNT_KEY = KEYS.get(0);
  private static final int HALF = 1500;

  @TempDir Path dir;

  @Test
  void everyRequestIsChargedOnceWhileNodesShareKeysAndOneStops() throws Exception {
    try (ThreeBrokerKafka kafka = ThreeBrokerKafka.start(dir.resolve("kafka"))) {
      Path config = dir.resolve("api.yaml");
      Files.writeString(config, E2eConfig.yaml("http://127.0.0.1:9/v1/chat/completions"));
      TestPostgres.Database database = TestPostgres.newDatabase();
      // Started together, but b only once a's logging is set up: Spring Boot's logging set-up is
      // one per JVM and not safe to run twice at once (a deployment has a JVM per node).
      CountDownLatch aLogging = new CountDownLatch(1);
      CompletableFuture<ConfigurableApplicationContext> startingA =
          CompletableFuture.supplyAsync(() -> node("a", config, database, kafka, aLogging));
      assertThat(aLogging.await(2, TimeUnit.MINUTES)).as("node a's logging set up").isTrue();
      CompletableFuture<ConfigurableApplicationContext> startingB =
          CompletableFuture.supplyAsync(
              () -> node("b", config, database, kafka, new CountDownLatch(1)));
      ConfigurableApplicationContext a = startingA.get(3, TimeUnit.MINUTES);
      try (ConfigurableApplicationContext b = startingB.get(3, TimeUnit.MINUTES);
          KafkaProducer<String, byte[]> producer = producer(kafka)) {
        JdbcTemplate jdbc = b.getBean(JdbcTemplate.class);
        assertViewsCaughtUpSeenFrom(a, b);
        long countBefore = countBalance(b);

        publish(producer, 0, HALF);
        awaitCharges(jdbc, HALF);
        // Both nodes loaded every key at start (api.yaml); only the node whose partition holds the
        // count key has charged it since. A top-up through each node: on the other one the cached
        // account is behind, the append conflicts on the sequence number, and the command must be
        // run again on the stored events, not fail the operator's call.
        for (ConfigurableApplicationContext node : List.of(a, b)) {
          assertThat(
                  node.getBean(CommandBatcher.class)
                      .dispatchAll(
                          List.of(
                              new AddCountCreditsCommand(COUNT_KEY, 100, "paid", Instant.now()))))
              .allMatch(CommandBatcher.Outcome::succeeded);
        }
        // One node holds the views' only segment; the other must still see where they stand (an
        // admin call on it waits for them, and its health reports their lag).
        assertViewsCaughtUpSeenFrom(a, b);
        // A rebuild on the node holding the views: the other claims the segment it lets go and
        // applies new events to the old tables meanwhile; the swap must take the claim back.
        ConfigurableApplicationContext owner =
            a.getBean(ViewStatus.class).processor().processingStatus().isEmpty() ? b : a;
        ViewRebuild rebuild = owner.getBean(ViewRebuild.class);
        assertThat(rebuild.start()).isTrue();
        publish(producer, HALF, HALF + 300);
        while (rebuild.isRunning()) {
          Thread.sleep(20);
        }
        assertThat(rebuild.progress().error()).as("rebuild error").isNull();
        awaitCharges(jdbc, HALF + 300);
        assertViewsCaughtUpSeenFrom(a, b);
        assertThat(b.getBean(ViewQueries.class).inconsistencies()).isEmpty();
        assertThat(
                jdbc.queryForObject(
                    "SELECT count(*) FROM billing_history WHERE event_type = 'request_charged'",
                    Long.class))
            .as("charges in the rebuilt views")
            .isEqualTo(HALF + 300L);

        publish(producer, HALF + 300, 2 * HALF);
        awaitCharges(jdbc, HALF + HALF / 3);
        a.close(); // mid-stream: its partitions move to b, its uncommitted batches come again
        awaitCharges(jdbc, 2 * HALF);

        assertThat(charges(jdbc)).as("charge events").isEqualTo(2L * HALF);
        assertThat(b.getBean(ViewStatus.class).awaitCaughtUp(Duration.ofSeconds(60)))
            .as("views caught up")
            .isTrue();
        assertThat(
                jdbc.queryForObject(
                    "SELECT count(*) FROM billing_history WHERE event_type = 'request_charged'",
                    Long.class))
            .as("charges in the views")
            .isEqualTo(2L * HALF);
        assertThat(
                jdbc.queryForObject(
                    "SELECT count(DISTINCT request_id) FROM billing_history"
                        + " WHERE event_type = 'request_charged'",
                    Long.class))
            .as("requests charged, by id")
            .isEqualTo(2L * HALF);
        ViewQueries views = b.getBean(ViewQueries.class);
        assertThat(views.inconsistencies()).isEmpty();
        // Count mode: a request each, so the balance is the grant, plus the top-up, less the calls.
        assertThat(countBalance(b)).isEqualTo(countBefore + 200 - (2L * HALF) / KEYS.size());
      } finally {
        a.close();
      }
    }
  }

  private static void assertViewsCaughtUpSeenFrom(ConfigurableApplicationContext... nodes)
      throws InterruptedException {
    // Right after a rebuild's swap, or a claim let go, neither node may hold the segment for a
    // moment: wait for one to claim it.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (workingOnTheViews(nodes) != 1 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(workingOnTheViews(nodes)).as("nodes working on the views' one segment").isEqualTo(1);
    for (ConfigurableApplicationContext node : nodes) {
      ViewStatus status = node.getBean(ViewStatus.class);
      assertThat(status.awaitCaughtUp(Duration.ofSeconds(60)))
          .as("views caught up, seen from %s", node.getId())
          .isTrue();
      assertThat(status.lag()).as("lag seen from %s", node.getId()).isEqualTo(Duration.ZERO);
    }
  }

  private static long workingOnTheViews(ConfigurableApplicationContext... nodes) {
    return Arrays.stream(nodes)
        .filter(node -> !node.getBean(ViewStatus.class).processor().processingStatus().isEmpty())
        .count();
  }

  private ConfigurableApplicationContext node(
      String name,
      Path config,
      TestPostgres.Database database,
      ThreeBrokerKafka kafka,
      CountDownLatch loggingSetUp) {
    return new SpringApplicationBuilder(TollgateApplication.class)
        .listeners(
            (ApplicationListener<ApplicationContextInitializedEvent>)
                event -> loggingSetUp.countDown())
        .run(
            "--server.port=0",
            "--tollgate.roles=ledger,projections",
            "--tollgate.kafka.partitions=6",
            // One JVM here: without its own id each node would think it held the other's claims.
            "--tollgate.ledger.node-id=ledger-" + name,
            // A node claims a segment another let go within 0.1 s, not 5 s: during a rebuild too.
            "--tollgate.projections.token-claim-interval-ms=100",
            "--spring.datasource.url=" + database.jdbcUrl(),
            "--spring.datasource.username=" + database.username(),
            "--spring.datasource.password=" + database.password(),
            "--tollgate.config=" + config,
            "--tollgate.data-dir=" + dir.resolve("data-" + name),
            "--tollgate.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
            "--spring.kafka.bootstrap-servers=" + kafka.bootstrapServers());
  }

  private static KafkaProducer<String, byte[]> producer(ThreeBrokerKafka kafka) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true),
        new StringSerializer(),
        new ByteArraySerializer());
  }

  /** Requests {@code from} (inclusive) to {@code to}, round robin over the keys. */
  private static void publish(KafkaProducer<String, byte[]> producer, int from, int to)
      throws Exception {
    List<Future<?>> sent = new ArrayList<>();
    Instant end = Instant.now();
    for (int i = from; i < to; i++) {
      String key = KEYS.get(i % KEYS.size());
      RequestCompleted request =
          new RequestCompleted(
              "two-nodes-" + i,
              key,
              "gpt-4o",
              "/v1/chat/completions",
              "fake",
              true,
              200,
              100,
              50,
              false,
              end.minusMillis(200),
              end);
      sent.add(
          producer.send(
              new ProducerRecord<>(TOPIC, key, CloudEventCodec.encode(request, "two-nodes-test"))));
    }
    for (Future<?> one : sent) {
      one.get(30, TimeUnit.SECONDS);
    }
  }

  private static long countBalance(ConfigurableApplicationContext node) {
    KeyStateRow row = node.getBean(ViewQueries.class).keyState(COUNT_KEY).orElseThrow();
    return row.countBalance();
  }

  /** Waits for the asynchronous pipeline; the assertions that follow say what was expected. */
  private static void awaitCharges(JdbcTemplate jdbc, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (charges(jdbc) < expected && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  private static long charges(JdbcTemplate jdbc) {
    return jdbc.queryForObject(
        "SELECT count(*) FROM domain_event_entry WHERE payload_type LIKE '%$RequestCharged'",
        Long.class);
  }
}
