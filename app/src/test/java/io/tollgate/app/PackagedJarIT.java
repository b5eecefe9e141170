package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's run command: the packaged {@code tollgate.jar}, started as its own process on its
 * embedded defaults (PostgreSQL from Maven Central, the in-process Kafka broker) with the
 * repository's {@code api.yaml}, serves the health check, the admin API and the gateway. The other
 * tests start the application from the class path; only this one runs the jar a user runs, whose
 * class loading differs (a snapshotter that inspected the account class failed only there).
 */
class PackagedJarIT {

  private static final Duration STARTUP = Duration.ofMinutes(4);

  @TempDir Path data;
  private JarNode node;

  @AfterEach
  void stop() throws InterruptedException {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void theJarServesTheWholeProductOnItsEmbeddedDefaults() throws Exception {
    assertThat(JarNode.JAR).as("run ./mvnw package first").exists();
    int port = TestNodes.freePort();
    node =
        JarNode.start(
            Map.of(
                "SERVER_PORT",
                String.valueOf(port),
                "TOLLGATE_DATA_DIR",
                data.resolve("data").toString(),
                "TOLLGATE_CONFIG",
                Path.of("..", "api.yaml").toAbsolutePath().toString()),
            data.resolve("node.log"));

    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + port;
    long deadline = System.nanoTime() + STARTUP.toNanos();
    HttpResponse<String> health = null;
    while (System.nanoTime() < deadline && node.isAlive()) {
      try {
        health =
            http.send(get(base + "/actuator/health", null), HttpResponse.BodyHandlers.ofString());
        if (health.statusCode() == 200) {
          break;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(500);
    }
    assertThat(health)
        .as("the node answered its health check; its log:%n%s", node.tail())
        .isNotNull()
        .extracting(HttpResponse::statusCode)
        .isEqualTo(200);
    assertThat(health.body()).contains("\"UP\"");

    HttpResponse<String> models =
        http.send(
            get(base + "/v1/models", "sk-count-user-key"), HttpResponse.BodyHandlers.ofString());
    assertThat(models.statusCode()).isEqualTo(200);
    assertThat(models.body()).contains("\"object\":\"list\"");

    HttpResponse<String> topUp =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        base + "/v1/add_count_credits?paid_key=sk-count-user-key&amount=100"))
                .header("Authorization", "Bearer sk-admin-key")
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(topUp.statusCode()).as(topUp.body()).isEqualTo(200);

    HttpResponse<String> states =
        http.send(
            get(base + "/v1/api_keys_states", "sk-admin-key"),
            HttpResponse.BodyHandlers.ofString());
    assertThat(states.statusCode()).isEqualTo(200);
    assertThat(states.body()).contains("sk-count-user-key");
  }

  private static HttpRequest get(String url, String key) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).GET();
    if (key != null) {
      request.header("Authorization", "Bearer " + key);
    }
    return request.timeout(Duration.ofSeconds(30)).build();
  }
}
