package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.contracts.KeyIds;
import io.tollgate.gateway.edge.EdgeServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The gateway's public port as a caller and a provider see it: HTTP details the end-to-end test
 * does not touch (timeouts, connection reuse, body limits, Expect, pipelining, TLS to a provider).
 */
class GatewayEdgeTest {

  @TempDir static Path dir;

  static RawUpstream steady;
  static RawUpstream silent;
  static RawUpstream secure;
  static RawUpstream weary;
  static RawUpstream torrent;
  static ConfigurableApplicationContext app;

  /** About 24 MB of stream: more than the sockets on both sides of the gateway hold. */
  static final int TORRENT_EVENTS = 24_000;

  static int port;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    steady = RawUpstream.plain(true);
    silent = RawUpstream.plain(false);
    Path pem = selfSignedForLocalhost();
    secure = RawUpstream.tls(serverContext());
    weary = RawUpstream.closingIdleConnections();
    torrent = RawUpstream.streaming();
    Path config = dir.resolve("api.yaml");
    Files.writeString(
        config,
        """
        providers:
          - provider: silent
            base_url: http://127.0.0.1:%d/v1/chat/completions
            model: [slow-model]
          - provider: steady
            base_url: http://127.0.0.1:%d/v1/chat/completions
            api: sk-steady
            model: [slow-model, gpt-4o]
          - provider: secure
            base_url: https://localhost:%d/v1/chat/completions
            model: [tls-model]
          - provider: nowhere
            base_url: http://no-such-host.invalid/v1/chat/completions
            model: [far-model]
          - provider: steady-too
            base_url: http://127.0.0.1:%d/v1/chat/completions
            model: [far-model]
          - provider: misnamed
            base_url: https://127.0.0.1:%d/v1/chat/completions
            model: [misnamed-model]
          - provider: weary
            base_url: http://127.0.0.1:%d/v1/chat/completions
            model: [weary-model]
          - provider: torrent
            base_url: http://127.0.0.1:%d/v1/chat/completions
            model: [torrent-model]
        api_keys:
          - api: sk-edge-slow
          - api: sk-edge-reuse
          - api: sk-edge-large
          - api: sk-edge-expect
          - api: sk-edge-pipelined
          - api: sk-edge-tls
          - api: sk-edge-misnamed
          - api: sk-edge-far
          - api: sk-edge-weary
          - api: sk-edge-slow-reader
          - api: sk-edge-http10
        preferences:
          model_price:
            default: 1,2
          model_timeout:
            slow-model: 1
            torrent-model: 1
            default: 30
        """
            .formatted(
                silent.port(),
                steady.port(),
                secure.port(),
                steady.port(),
                secure.port(),
                weary.port(),
                torrent.port()));
    app =
        TestNodes.start(
            config,
            dir.resolve("data"),
            "--tollgate.gateway.max-body-bytes=4096",
            "--tollgate.gateway.upstream-ca-file=" + pem);
    port = app.getBean(EdgeServer.class).port();
  }

  @AfterAll
  static void stop() throws Exception {
    if (app != null) {
      app.close();
    }
    for (RawUpstream upstream : new RawUpstream[] {steady, silent, secure, weary, torrent}) {
      if (upstream != null) {
        upstream.close();
      }
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  private static final String PASSWORD = "edge-test";

  /** A key pair for "localhost" only, made with the JDK's keytool; returns its certificate. */
  private static Path selfSignedForLocalhost() throws Exception {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    run(
        keytool.toString(),
        "-genkeypair",
        "-keyalg",
        "EC",
        "-alias",
        "upstream",
        "-dname",
        "CN=localhost",
        "-ext",
        "SAN=dns:localhost",
        "-validity",
        "2",
        "-storetype",
        "PKCS12",
        "-keystore",
        dir.resolve("upstream.p12").toString(),
        "-storepass",
        PASSWORD);
    Path pem = dir.resolve("upstream-ca.pem");
    run(
        keytool.toString(),
        "-exportcert",
        "-rfc",
        "-alias",
        "upstream",
        "-keystore",
        dir.resolve("upstream.p12").toString(),
        "-storepass",
        PASSWORD,
        "-file",
        pem.toString());
    return pem;
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
  }

  private static SSLContext serverContext() throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(dir.resolve("upstream.p12"))) {
      store.load(in, PASSWORD.toCharArray());
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, PASSWORD.toCharArray());
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context;
  }

  private static String chatBody(String model) {
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi.\"}]}";
  }

  private static HttpRequest.Builder chat(String key, String body) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
        .header("Authorization", "Bearer " + key)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
  }

  private static HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static long charges(String rawKey) {
    return TestNodes.charges(app, rawKey);
  }

  private static void awaitCharges(String rawKey, long expected) throws InterruptedException {
    TestNodes.awaitCharges(app, rawKey, expected, Duration.ofSeconds(60));
  }

  // ---- tests -------------------------------------------------------------------------------

  @Test
  void anHttp10CallerGetsItsStreamUnchunkedAndThenTheConnectionCloses() throws Exception {
    String body = "{\"model\":\"torrent-model\",\"stream\":true,\"messages\":[]}";
    String answer;
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      socket
          .getOutputStream()
          .write(
              ("POST /v1/chat/completions HTTP/1.0\r\nHost: edge\r\n"
                      + "Authorization: Bearer sk-edge-http10\r\nContent-Type: application/json\r\n"
                      + "Content-Length: "
                      + body.length()
                      + "\r\n\r\n"
                      + body)
                  .getBytes(StandardCharsets.US_ASCII));
      // Read to the end: the gateway must close the connection to end the answer.
      answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
    String head = answer.substring(0, answer.indexOf("\r\n\r\n")).toLowerCase(Locale.ROOT);
    String sse = answer.substring(answer.indexOf("\r\n\r\n") + 4);

    assertThat(head)
        .startsWith("http/1.1 200 ok")
        .contains("content-type: text/event-stream")
        .contains("connection: close")
        .doesNotContain("transfer-encoding");
    assertThat(sse).startsWith("data: {\"choices\"").endsWith("data: [DONE]\n\n");
    assertThat(sse).contains("\"completion_tokens\":3");
    awaitCharges("sk-edge-http10", 1);
    assertThat(charges("sk-edge-http10")).isEqualTo(1);
  }

  @Test
  void aStreamHeldBackByASlowCallerOutlastsTheModelsTimeout() throws Exception {
    try (SlowCaller caller =
        new SlowCaller(port, "sk-edge-slow-reader", "torrent-model", TORRENT_EVENTS)) {
      assertThat(caller.readHead()).isEqualTo("HTTP/1.1 200 OK");
      // Three times the model's timeout without taking anything: the provider is held back by
      // the caller, not silent, so its timeout must not end the stream.
      Thread.sleep(3_000);
      SlowCaller.Body body = caller.readChunkedBody();

      assertThat(body.tail()).endsWith("data: [DONE]\n\n");
      assertThat(body.length()).isGreaterThan(TORRENT_EVENTS * 1000L);
    }
    awaitCharges("sk-edge-slow-reader", 1);
    assertThat(charges("sk-edge-slow-reader")).isEqualTo(1);
    assertThat(
            app.getBean(JdbcTemplate.class)
                .queryForMap(
                    """
                    SELECT (p->>'estimated')::boolean AS estimated,
                           (p->>'completionTokens')::bigint AS completion
                    FROM (SELECT convert_from(payload, 'UTF8')::jsonb AS p FROM domain_event_entry
                          WHERE aggregate_identifier = ?
                            AND payload_type LIKE '%$RequestCharged') charged""",
                    KeyIds.of("sk-edge-slow-reader")))
        .as("charged with the provider's own usage, read at the stream's end")
        .containsEntry("estimated", false)
        .containsEntry("completion", (long) TORRENT_EVENTS);
    assertThat(torrent.requests())
        .as("the call went to the provider once")
        .filteredOn(sent -> sent.contains("\"max_tokens\":" + TORRENT_EVENTS))
        .hasSize(1);
  }

  @Test
  void aProviderSilentPastTheModelsTimeoutIsSkippedForTheNext() throws Exception {
    long start = System.nanoTime();
    HttpResponse<String> answer = send(chat("sk-edge-slow", chatBody("slow-model")).build());
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo(RawUpstream.ANSWER);
    assertThat(silent.requests()).as("the silent provider was asked first").hasSize(1);
    assertThat(tookMillis).as("it was given its 1 s").isGreaterThanOrEqualTo(1000);
    awaitCharges("sk-edge-slow", 1);
    Thread.sleep(300);
    assertThat(charges("sk-edge-slow")).isEqualTo(1);
  }

  @Test
  void aProviderWhoseHostIsNotKnownIsSkippedForTheNext() throws Exception {
    HttpResponse<String> answer = send(chat("sk-edge-far", chatBody("far-model")).build());

    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo(RawUpstream.ANSWER);
    assertThat(steady.requests()).anyMatch(r -> r.contains("far-model"));
  }

  @Test
  void callsOneAfterAnotherReuseOneUpstreamConnection() throws Exception {
    int requestsBefore = countTo(steady, "gpt-4o");
    int connectionsBefore = steady.connections();
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> answer = send(chat("sk-edge-reuse", chatBody("gpt-4o")).build());
      assertThat(answer.statusCode()).isEqualTo(200);
    }
    assertThat(countTo(steady, "gpt-4o") - requestsBefore).isEqualTo(5);
    assertThat(steady.connections() - connectionsBefore)
        .as("connections opened for five calls in a row")
        .isLessThanOrEqualTo(1);
    assertThat(steady.requests().get(steady.requests().size() - 1))
        .startsWith("POST /v1/chat/completions HTTP/1.1");
  }

  @Test
  void aCallWhoseReusedConnectionTheProviderClosedIsSentAgainOnANewOne() throws Exception {
    // The only provider of the model drops every connection on its second request, as a server
    // whose keep-alive timeout ran out as the request arrived. Without a second sending on a new
    // connection, every call after the first would be answered 502.
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> answer = send(chat("sk-edge-weary", chatBody("weary-model")).build());
      assertThat(answer.statusCode()).as("call %d", i + 1).isEqualTo(200);
      assertThat(answer.body()).isEqualTo(RawUpstream.ANSWER);
    }
    assertThat(weary.requests())
        .as("the first call once, each later one on the dropped connection and on a new one")
        .hasSize(5);
    assertThat(weary.connections()).isEqualTo(3);
    awaitCharges("sk-edge-weary", 3);
    Thread.sleep(300);
    assertThat(charges("sk-edge-weary")).as("one charge per call").isEqualTo(3);
  }

  private static int countTo(RawUpstream upstream, String model) {
    return (int)
        upstream.requests().stream().filter(r -> r.contains("\"model\":\"" + model + "\"")).count();
  }

  @Test
  void aBodyOverTheLimitIsRefusedWith413AndNeitherForwardedNorCharged() throws Exception {
    int before = steady.requests().size();
    String body =
        "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\""
            + "x".repeat(5000)
            + "\"}]}";
    HttpResponse<String> answer = send(chat("sk-edge-large", body).build());

    assertThat(answer.statusCode()).isEqualTo(413);
    assertThat(answer.body()).contains("\"code\":\"request_too_large\"", "4096 bytes");
    assertThat(steady.requests()).hasSize(before);
    Thread.sleep(300);
    assertThat(charges("sk-edge-large")).isZero();
  }

  @Test
  void aCallerThatWaitsForContinueIsServed() throws Exception {
    HttpResponse<String> answer =
        send(chat("sk-edge-expect", chatBody("gpt-4o")).expectContinue(true).build());

    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo(RawUpstream.ANSWER);
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrderIncludingOnesForTheWebApplication() throws Exception {
    byte[] call = chatBody("gpt-4o").getBytes(StandardCharsets.UTF_8);
    String both =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: edge\r\nAuthorization: Bearer sk-edge-pipelined"
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + call.length
            + "\r\n\r\n"
            + new String(call, StandardCharsets.UTF_8)
            + "GET /v1/models HTTP/1.1\r\nHost: edge\r\nAuthorization: Bearer sk-edge-pipelined"
            + "\r\nConnection: close\r\n\r\n";
    String answers;
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(both.getBytes(StandardCharsets.UTF_8));
      out.flush();
      answers = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    int chatAnswer = answers.indexOf(RawUpstream.ANSWER);
    int modelsAnswer = answers.indexOf("\"object\":\"list\"");
    assertThat(answers).startsWith("HTTP/1.1 200 OK");
    assertThat(chatAnswer).as(answers).isPositive();
    assertThat(modelsAnswer)
        .as("the models come after the call's answer")
        .isGreaterThan(chatAnswer);
    assertThat(answers.indexOf("HTTP/1.1 200", chatAnswer)).isBetween(chatAnswer, modelsAnswer);
  }

  @Test
  void whatIsNotHttpIsAnswered400() throws Exception {
    String answer;
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write("GARBAGE\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }
    assertThat(answer).startsWith("HTTP/1.1 400 Bad Request");
  }

  @Test
  void aTlsProviderIsVerifiedAgainstTheConfiguredAuthorityAndServes() throws Exception {
    HttpResponse<String> answer = send(chat("sk-edge-tls", chatBody("tls-model")).build());

    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo(RawUpstream.ANSWER);
    assertThat(secure.requests()).anyMatch(r -> r.contains("tls-model"));
    awaitCharges("sk-edge-tls", 1);
    assertThat(charges("sk-edge-tls")).isEqualTo(1);
  }

  @Test
  void aTlsProviderWhoseCertificateNamesAnotherHostIsNotSentTheCall() throws Exception {
    HttpResponse<String> answer =
        send(chat("sk-edge-misnamed", chatBody("misnamed-model")).build());

    assertThat(answer.statusCode()).isEqualTo(502);
    assertThat(answer.body()).contains("\"code\":\"upstream_unavailable\"");
    List<String> seen = secure.requests();
    assertThat(seen).noneMatch(r -> r.contains("misnamed-model"));
  }
}
