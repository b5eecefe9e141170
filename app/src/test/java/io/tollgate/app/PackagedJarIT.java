package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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

  private static final Path JAR = Path.of("target", "tollgate.jar");
  private static final Duration STARTUP = Duration.ofMinutes(4);

  @TempDir Path data;
  private Process node;

  @AfterEach
  void stop() throws InterruptedException {
    if (node != null) {
      node.destroy();
      if (!node.waitFor(30, TimeUnit.SECONDS)) {
        node.destroyForcibly();
      }
    }
  }

  @Test
  void theJarServesTheWholeProductOnItsEmbeddedDefaults() throws Exception {
    assertThat(JAR).as("run ./mvnw package first").exists();
    int port = freePort();
    Path log = data.resolve("node.log");
    ProcessBuilder launch =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-jar",
                JAR.toAbsolutePath().toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    launch.environment().put("SERVER_PORT", String.valueOf(port));
    launch.environment().put("TOLLGATE_DATA_DIR", data.resolve("data").toString());
    launch
        .environment()
        .put("TOLLGATE_CONFIG", Path.of("..", "api.yaml").toAbsolutePath().toString());
    launch.environment().remove("TOLLGATE_DB_URL");
    launch.environment().remove("KAFKA_BOOTSTRAP_SERVERS");
    launch.environment().remove("TOLLGATE_ROLES");
    node = launch.start();

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
        .as("the node answered its health check; its log:%n%s", tail(log))
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

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static String tail(Path log) {
    try {
      String all = Files.readString(log);
      return all.substring(Math.max(0, all.length() - 4000));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
