package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.gateway.edge.EdgeServer;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The life of a caller's connection on a gateway node: idle ones are closed after the idle timeout
 * (1 s here), calls that wait on their provider are not, and a stopping gateway (a rolling deploy)
 * lets the calls under way finish. The provider thinks 1.5 s before each answer.
 */
class GatewayConnectionsTest {

  @TempDir Path dir;

  RawUpstream thinking;
  RawUpstream torrent;
  ConfigurableApplicationContext gateway;
  int port;

  @BeforeEach
  void start() throws Exception {
    thinking = RawUpstream.slow(1500);
    torrent = RawUpstream.streaming();
    Path config = dir.resolve("api.yaml");
    Files.writeString(
        config,
        """
        providers:
          - provider: thinking
            base_url: http://127.0.0.1:%d/v1/chat/completions
            model: [gpt-4o]
          - provider: torrent
            base_url: http://127.0.0.1:%d/v1/chat/completions
            model: [torrent-model]
        api_keys:
          - api: sk-connections
        """
            .formatted(thinking.port(), torrent.port()));
    gateway =
        new SpringApplicationBuilder(TollgateApplication.class)
            .run(
                "--server.port=0",
                "--tollgate.roles=gateway",
                "--tollgate.gateway.idle-timeout=1s",
                "--tollgate.config=" + config,
                "--tollgate.data-dir=" + dir.resolve("data"));
    port = gateway.getBean(EdgeServer.class).port();
  }

  @AfterEach
  void stop() throws Exception {
    gateway.close();
    thinking.close();
    torrent.close();
  }

  private CompletableFuture<HttpResponse<String>> callAsync() {
    return HttpClient.newHttpClient()
        .sendAsync(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                .header("Authorization", "Bearer sk-connections")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"gpt-4o\",\"messages\":[]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** Milliseconds until the gateway closes a connection that sent {@code sent}. */
  private long millisUntilClosed(String sent) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      long start = System.nanoTime();
      socket.getOutputStream().write(sent.getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      assertThat(in.readAllBytes()).as("nothing is answered, the connection just closes").isEmpty();
      return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() throws Exception {
    assertThat(millisUntilClosed("")).isBetween(900L, 5_000L);
  }

  @Test
  void aRequestWhoseBodyStopsArrivingIsClosedAfterTheIdleTimeout() throws Exception {
    String stalled =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: edge\r\nAuthorization: Bearer sk-connections"
            + "\r\nContent-Length: 100\r\n\r\n{\"model\":";
    assertThat(millisUntilClosed(stalled)).isBetween(900L, 5_000L);
    assertThat(thinking.requests()).isEmpty();
  }

  @Test
  void aCallWaitingLongerThanTheIdleTimeoutOnItsProviderIsAnswered() throws Exception {
    HttpResponse<String> answer = callAsync().get(30, TimeUnit.SECONDS);

    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo(RawUpstream.ANSWER);
  }

  @Test
  void aCallUnderWayWhenTheGatewayStopsGetsItsWholeAnswer() throws Exception {
    CompletableFuture<HttpResponse<String>> call = callAsync();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (thinking.requests().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(thinking.requests()).as("the call reached the provider").hasSize(1);

    long stopping = System.nanoTime();
    gateway.close();
    long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopping);

    HttpResponse<String> answer = call.get(5, TimeUnit.SECONDS);
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo(RawUpstream.ANSWER);
    assertThat(stopMillis).as("the stop waited for the answer").isGreaterThanOrEqualTo(1000);
  }

  @Test
  void aCallerThatTakesNothingOfItsStreamForTheIdleTimeoutIsClosedAndSoIsItsProvider()
      throws Exception {
    try (SlowCaller caller = new SlowCaller(port, "sk-connections", "torrent-model", 24_000)) {
      assertThat(caller.readHead()).isEqualTo("HTTP/1.1 200 OK");
      long start = System.nanoTime();
      long deadline = start + TimeUnit.SECONDS.toNanos(30);
      while (torrent.closedConnections() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

      assertThat(torrent.closedConnections())
          .as("the provider's connection is closed, so it stops generating")
          .isEqualTo(1);
      assertThat(millis).as("after the idle timeout of 1 s").isBetween(900L, 10_000L);
      long received = caller.readToEnd();
      assertThat(received)
          .as("the caller's connection ends short of the whole stream")
          .isLessThan(24_000L * 1000);
    }
  }
}
