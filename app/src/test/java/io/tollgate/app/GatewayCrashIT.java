package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.gateway.events.EventLog;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A gateway process killed with calls served and their events not yet confirmed by Kafka: the next
 * start of that gateway sends them, and every call is charged once. The gateway is the packaged jar
 * in a process of its own (so it can be killed outright); the ledger, the broker and the upstream
 * run in the test. The gateway's producer lingers 10 s (the most its 15 s delivery timeout allows),
 * so the events of the calls are still in its memory when it is killed: without the event log they
 * would be lost with it.
 */
class GatewayCrashIT {

  private static final String KEY = "sk-crash";
  private static final int CALLS = 20;

  @TempDir Path dir;

  @Test
  void callsServedBeforeTheGatewayWasKilledAreChargedOnceAfterItsRestart() throws Exception {
    assertThat(JarNode.JAR).as("run ./mvnw package first").exists();
    int kafkaPort = TestNodes.freePort();
    try (RawUpstream upstream = RawUpstream.plain(true)) {
      Path config = dir.resolve("api.yaml");
      Files.writeString(
          config,
          """
          providers:
            - provider: local
              base_url: http://127.0.0.1:%d/v1/chat/completions
              model: [gpt-4o]
          api_keys:
            - api: %s
          preferences:
            model_price:
              default: 1,2
          """
              .formatted(upstream.port(), KEY));
      try (ConfigurableApplicationContext ledger =
          TestNodes.start(
              config,
              dir.resolve("ledger"),
              "--tollgate.roles=ledger,projections",
              "--tollgate.kafka.in-process-port=" + kafkaPort)) {
        Path gatewayData = dir.resolve("gateway");
        int edgePort = TestNodes.freePort();
        JarNode first = startGateway(config, gatewayData, kafkaPort, edgePort, "first", 10_000);
        HttpClient http = HttpClient.newHttpClient();
        try {
          for (int call = 0; call < CALLS; call++) {
            HttpResponse<String> answer = http.send(chat(edgePort), ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
          }
          first.kill();
        } finally {
          first.close();
        }
        // Nothing reached the ledger: the events died in the killed gateway's producer buffer.
        Thread.sleep(2000);
        assertThat(TestNodes.charges(ledger, KEY)).isZero();

        try (JarNode second =
            startGateway(config, gatewayData, kafkaPort, edgePort, "second", 20)) {
          TestNodes.awaitCharges(ledger, KEY, CALLS, Duration.ofSeconds(60));
          assertThat(TestNodes.charges(ledger, KEY)).as(second.tail()).isEqualTo(CALLS);
          assertThat(second.output())
              .contains(
                  CALLS
                      + " events of calls served before the gateway last stopped were never"
                      + " confirmed by Kafka");
          // The restarted gateway serves, and its call is charged too; none of the others twice.
          assertThat(http.send(chat(edgePort), ofString()).statusCode()).isEqualTo(200);
          TestNodes.awaitCharges(ledger, KEY, CALLS + 1, Duration.ofSeconds(30));
          Thread.sleep(1000);
          assertThat(TestNodes.charges(ledger, KEY)).isEqualTo(CALLS + 1);
        }
        // Stopped in order (SIGTERM), the gateway leaves nothing in its event log to send again:
        // the recovered events were let go once in the journal, and the rest were confirmed.
        try (EventLog left = new EventLog(gatewayData.resolve("outbox/events.ring"), 8192)) {
          assertThat(left.leftOver()).isEmpty();
        }
      }
    }
  }

  /**
   * A gateway-only node of the packaged jar, ready once it answers {@code /v1/models}; its edge
   * takes {@code SERVER_PORT}, as uni-api's does.
   */
  private JarNode startGateway(
      Path config, Path data, int kafkaPort, int edgePort, String name, int lingerMillis)
      throws IOException, InterruptedException {
    JarNode node =
        JarNode.start(
            Map.of(
                "TOLLGATE_ROLES",
                "gateway",
                "KAFKA_BOOTSTRAP_SERVERS",
                "localhost:" + kafkaPort,
                "SERVER_PORT",
                String.valueOf(edgePort),
                "TOLLGATE_DATA_DIR",
                data.toString(),
                "TOLLGATE_CONFIG",
                config.toString()),
            dir.resolve(name + "-gateway.log"),
            "--tollgate.gateway.producer-linger-ms=" + lingerMillis);
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (System.nanoTime() < deadline && node.isAlive()) {
      try {
        HttpRequest models =
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edgePort + "/v1/models"))
                .header("Authorization", "Bearer " + KEY)
                .build();
        if (http.send(models, ofString()).statusCode() == 200) {
          return node;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    String log = node.tail();
    node.close();
    throw new AssertionError("the " + name + " gateway did not start; its log:\n" + log);
  }

  private static HttpRequest chat(int port) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .header("Authorization", "Bearer " + KEY)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o\",\"messages\":[]}"))
        .timeout(Duration.ofSeconds(30))
        .build();
  }

  private static HttpResponse.BodyHandler<String> ofString() {
    return HttpResponse.BodyHandlers.ofString();
  }
}
