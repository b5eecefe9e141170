package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.tollgate.gateway.edge.EdgeServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The application against a Kafka cluster set up as the production topology's: three brokers,
 * topics replicated three times by default, and {@code acks=all} needing two replicas in sync. The
 * topics Tollgate creates must take the cluster's replication: with one replica each, as they once
 * had, a single broker's loss would stop a third of the partitions and could lose the events on
 * them.
 */
class ReplicatedKafkaTest {

  private static final String KEY = "sk-e2e-count";

  /** The pipeline's time to charge a call, with a broker stopping on the way. */
  private static final Duration CHARGED_WITHIN = Duration.ofSeconds(90);

  @TempDir Path dir;

  @Test
  void onAReplicatedClusterTheTopicsAreReplicatedAndCallsAreChargedWithABrokerDown()
      throws Exception {
    try (ThreeBrokerKafka kafka = ThreeBrokerKafka.start(dir.resolve("kafka"));
        FakeOpenAiUpstream upstream = new FakeOpenAiUpstream()) {
      Path config = dir.resolve("api.yaml");
      Files.writeString(config, E2eConfig.yaml(upstream.chatUrl()));
      try (ConfigurableApplicationContext app =
          TestNodes.start(
              config,
              dir.resolve("data"),
              "--tollgate.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
              "--spring.kafka.bootstrap-servers=" + kafka.bootstrapServers())) {
        int port = app.getBean(EdgeServer.class).port();
        assertThat(call(port)).isEqualTo(200);
        TestNodes.awaitCharges(app, KEY, 1, CHARGED_WITHIN);
        assertThat(TestNodes.charges(app, KEY)).as("the call's charge").isEqualTo(1);
        assertThat(waitingInJournal(app)).as("events waiting in the gateway's journal").isZero();

        List<String> topics =
            List.of(
                app.getEnvironment().getProperty("tollgate.kafka.requests-topic"),
                app.getEnvironment().getProperty("tollgate.kafka.dead-letter-topic"),
                app.getEnvironment().getProperty("tollgate.kafka.balances-topic"));
        try (Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
          Map<String, TopicDescription> described =
              admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS);
          assertThat(described).containsOnlyKeys(topics);
          described
              .values()
              .forEach(
                  topic ->
                      assertThat(topic.partitions())
                          .as(topic.name())
                          .allSatisfy(partition -> assertThat(partition.replicas()).hasSize(3)));
        }

        // One broker gone: every partition still has a leader and two replicas in sync.
        kafka.stopOne();
        assertThat(call(port)).isEqualTo(200);
        TestNodes.awaitCharges(app, KEY, 2, CHARGED_WITHIN);
        assertThat(TestNodes.charges(app, KEY)).as("the charges, one broker down").isEqualTo(2);
        assertThat(waitingInJournal(app)).as("events waiting in the gateway's journal").isZero();
      }
    }
  }

  private static int call(int port) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"gpt-4o\",\"messages\":"
                            + "[{\"role\":\"user\",\"content\":\"Say hello.\"}]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }

  private static double waitingInJournal(ConfigurableApplicationContext app) {
    return app.getBean(MeterRegistry.class).get("tollgate.outbox.waiting").gauge().value();
  }
}
