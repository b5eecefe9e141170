package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import io.tollgate.gateway.edge.EdgeServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The edge on each I/O it can be told to use ({@code tollgate.gateway.transport}): the other tests
 * run on the default, io_uring where the kernel allows it, so here the fall-backs serve a whole
 * answer and a stream of many reads, and both calls are charged.
 */
class GatewayTransportsTest {

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"epoll", "nio"})
  void theEdgeServesAndChargesOn(String transport) throws Exception {
    Assumptions.assumeTrue(!transport.equals("epoll") || Epoll.isAvailable(), "no epoll here");
    try (RawUpstream whole = RawUpstream.plain(true);
        RawUpstream streams = RawUpstream.streaming()) {
      Path config = dir.resolve("api.yaml");
      Files.writeString(
          config,
          """
          providers:
            - provider: whole
              base_url: http://127.0.0.1:%d/v1/chat/completions
              model: [gpt-4o]
            - provider: streams
              base_url: http://127.0.0.1:%d/v1/chat/completions
              model: [stream-model]
          api_keys:
            - api: sk-transport
          preferences:
            model_price:
              default: 1,2
          """
              .formatted(whole.port(), streams.port()));
      try (ConfigurableApplicationContext app =
          TestNodes.start(
              config, dir.resolve("data"), "--tollgate.gateway.transport=" + transport)) {
        EdgeServer edge = app.getBean(EdgeServer.class);
        assertThat(edge.transport()).isEqualTo(transport);
        HttpClient http = HttpClient.newHttpClient();

        HttpResponse<String> answer =
            http.send(
                chat(edge.port(), "{\"model\":\"gpt-4o\",\"messages\":[]}"),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo(RawUpstream.ANSWER);

        // 200 events of about 1 KB: the stream arrives over many reads on both sides.
        HttpResponse<String> stream =
            http.send(
                chat(
                    edge.port(),
                    "{\"model\":\"stream-model\",\"stream\":true,\"max_tokens\":200,"
                        + "\"messages\":[]}"),
                HttpResponse.BodyHandlers.ofString());
        assertThat(stream.statusCode()).isEqualTo(200);
        assertThat(stream.body())
            .contains("\"completion_tokens\":200")
            .endsWith("data: [DONE]\n\n")
            .hasSizeGreaterThan(200 * 1000);

        TestNodes.awaitCharges(app, "sk-transport", 2, Duration.ofSeconds(60));
        assertThat(TestNodes.charges(app, "sk-transport")).isEqualTo(2);
      }
    }
  }

  private static HttpRequest chat(int port, String body) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .header("Authorization", "Bearer sk-transport")
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }
}
