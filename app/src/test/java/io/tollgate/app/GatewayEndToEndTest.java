package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.gateway.edge.EdgeServer;
import io.tollgate.ledger.intake.RequestIntake;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The whole product in one JVM, as the README runs it: the gateway in front of a real HTTP upstream
 * speaking OpenAI's JSON and SSE, the in-process Kafka broker, the ledger on real PostgreSQL. Each
 * test uses keys of its own, so the tests share one application.
 */
class GatewayEndToEndTest {

  @TempDir static Path dataDir;

  static FakeOpenAiUpstream upstream;
  static ConfigurableApplicationContext app;
  static String base;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws IOException {
    upstream = new FakeOpenAiUpstream();
    Path config = dataDir.resolve("api.yaml");
    Files.writeString(config, E2eConfig.yaml(upstream.chatUrl()));
    app =
        TestNodes.start(
            config,
            dataDir.resolve("data"),
            "--tollgate.ledger.balance-interval-ms=20",
            "--tollgate.ledger.intake.max-batch=200",
            "--tollgate.gateway.max-running-per-limited-key=2");
    base = "http://localhost:" + app.getBean(EdgeServer.class).port();
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** Calls until a non-streaming call of {@code key} is answered with {@code status}. */
  static void awaitAnswer(String key, String model, int status) throws InterruptedException {
    await(
        () -> {
          try {
            return chat(key, model, false).statusCode() == status;
          } catch (Exception failed) {
            throw new IllegalStateException(failed);
          }
        });
  }

  static HttpResponse<String> chat(String key, String model, boolean stream) throws Exception {
    String body =
        "{\"model\":\""
            + model
            + "\",\"stream\":"
            + stream
            + ",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}";
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "application/json")
            .header("X-Client-Secret", "must-not-leak")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  static JdbcTemplate jdbc() {
    return app.getBean(JdbcTemplate.class);
  }

  static long events(String rawKey, String type) {
    return jdbc()
        .queryForObject(
            "SELECT count(*) FROM domain_event_entry WHERE aggregate_identifier = ? AND payload_type LIKE ?",
            Long.class,
            KeyIds.of(rawKey),
            "%$" + type);
  }

  static List<Map<String, Object>> charges(String rawKey) {
    return jdbc()
        .queryForList(
            """
        SELECT (p->>'usd')::numeric AS usd, (p->>'requests')::bigint AS requests,
               (p->>'estimated')::boolean AS estimated, (p->>'promptTokens')::bigint AS prompt,
               (p->>'completionTokens')::bigint AS completion, p->>'costType' AS cost_type
        FROM (SELECT convert_from(payload, 'UTF8')::jsonb AS p FROM domain_event_entry
              WHERE aggregate_identifier = ? AND payload_type LIKE '%$RequestCharged') charged""",
            KeyIds.of(rawKey));
  }

  static BigDecimal usd(String rawKey) {
    return charges(rawKey).stream()
        .map(row -> (BigDecimal) row.get("usd"))
        .reduce(BigDecimal.ZERO, BigDecimal::add);
  }

  /** Waits for the asynchronous pipeline; the assertion that follows says what was expected. */
  static void await(BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!done.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  static Map<String, Object> kafkaClient() {
    return Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        String.join(",", app.getBean(KafkaConnectionDetails.class).getBootstrapServers()));
  }

  static void produce(String topicProperty, String key, byte[] value) throws Exception {
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(kafkaClient(), new StringSerializer(), new ByteArraySerializer())) {
      producer
          .send(new ProducerRecord<>(app.getEnvironment().getProperty(topicProperty), key, value))
          .get();
    }
  }

  // ---- tests -------------------------------------------------------------------------------

  @Test
  void callsOverKeysAndModesAreEachChargedOnceWithTheContractsAmounts() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertThat(chat("sk-e2e-token", "gpt-4o", false).statusCode()).isEqualTo(200);
    }
    for (int i = 0; i < 2; i++) {
      HttpResponse<String> streamed = chat("sk-e2e-token", "gpt-4o", true);
      assertThat(streamed.statusCode()).isEqualTo(200);
      assertThat(streamed.body()).contains("Hel", "lo.", "data: [DONE]");
    }
    for (int i = 0; i < 5; i++) {
      assertThat(chat("sk-e2e-count", "gpt-4o", i % 2 == 0).statusCode()).isEqualTo(200);
    }
    assertThat(chat("sk-e2e-count", "claude-3-5-sonnet", false).statusCode()).isEqualTo(200);
    assertThat(chat("sk-e2e-hybrid", "gpt-4o", false).statusCode()).isEqualTo(200);
    assertThat(chat("sk-e2e-hybrid", "claude-3-5-sonnet", true).statusCode()).isEqualTo(200);

    await(
        () ->
            charges("sk-e2e-token").size() == 5
                && charges("sk-e2e-count").size() == 6
                && charges("sk-e2e-hybrid").size() == 2);

    // token, gpt-4o at 1,2: 3 x (1000 x 1 + 500 x 2) / 1M, and 2 streamed x (2000 + 1000 x 2) / 1M
    assertThat(charges("sk-e2e-token")).hasSize(5);
    assertThat(usd("sk-e2e-token")).isEqualByComparingTo("0.014");
    // count: gpt-4o 0.01 each (5 requests: 0.05), claude-3-5-sonnet 0.005 (claude-3 prefix)
    assertThat(charges("sk-e2e-count"))
        .hasSize(6)
        .allSatisfy(row -> assertThat(row.get("requests")).isEqualTo(1L));
    assertThat(usd("sk-e2e-count")).isEqualByComparingTo("0.055");
    // hybrid: gpt-4o has an explicit count price (0.01 + 1 request); claude-3-5-sonnet streamed
    // 2000 / 1000 tokens at 0.12,0.48 is 0.00072
    assertThat(charges("sk-e2e-hybrid")).hasSize(2);
    assertThat(usd("sk-e2e-hybrid")).isEqualByComparingTo("0.01072");
    assertThat(charges("sk-e2e-token"))
        .noneSatisfy(row -> assertThat(row.get("estimated")).isEqualTo(true));
  }

  @Test
  void streamingRequestsAskTheUpstreamForUsageAndReadItAcrossSplitEvents() throws Exception {
    assertThat(chat("sk-e2e-stream", "gpt-4o-mini", true).statusCode()).isEqualTo(200);
    await(() -> charges("sk-e2e-stream").size() == 1);
    Map<String, Object> charge = charges("sk-e2e-stream").get(0);
    assertThat(charge.get("prompt")).isEqualTo(2000L);
    assertThat(charge.get("completion")).isEqualTo(1000L);
    assertThat(charge.get("estimated")).isEqualTo(false);
    assertThat(upstream.requestBodies)
        .anySatisfy(
            body -> assertThat(body).contains("\"stream_options\":{\"include_usage\":true}"));
  }

  @Test
  void anUpstreamFailureIsRecordedButNotCharged() throws Exception {
    HttpResponse<String> failed = chat("sk-e2e-fail", "fail-model", false);
    assertThat(failed.statusCode()).isEqualTo(502);
    assertThat(failed.body()).contains("\"error\"");
    await(() -> events("sk-e2e-fail", "RequestFailed") == 1);
    assertThat(events("sk-e2e-fail", "RequestFailed")).isEqualTo(1);
    assertThat(events("sk-e2e-fail", "RequestCharged")).isZero();
  }

  @Test
  void anUnreachableProviderIsSkippedForTheNextOne() throws Exception {
    HttpResponse<String> answered = chat("sk-e2e-failover", "gpt-4-turbo", false);
    assertThat(answered.statusCode()).isEqualTo(200);
    await(() -> charges("sk-e2e-failover").size() == 1);
    assertThat(
            jdbc()
                .queryForObject(
                    """
        SELECT convert_from(payload, 'UTF8')::jsonb->>'provider' FROM domain_event_entry
        WHERE aggregate_identifier = ? AND payload_type LIKE '%$RequestCharged'""",
                    String.class, KeyIds.of("sk-e2e-failover")))
        .isEqualTo("fake");
  }

  @Test
  void aRenamedModelReachesTheUpstreamUnderItsUpstreamName() throws Exception {
    assertThat(chat("sk-e2e-rename", "renamed-model", false).statusCode()).isEqualTo(200);
    assertThat(upstream.requestBodies)
        .anySatisfy(body -> assertThat(body).contains("\"model\":\"upstream-special\""));
  }

  /**
   * A caller's stream of {@code endless-model} that the upstream never ends, read until the answer
   * is flowing; closing the socket is the caller going away.
   */
  static Socket endlessStream(String key) throws Exception {
    String body =
        "{\"model\":\"endless-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Count.\"}]}";
    byte[] json = body.getBytes(StandardCharsets.UTF_8);
    Socket socket = new Socket("localhost", URI.create(base).getPort());
    OutputStream out = socket.getOutputStream();
    out.write(
        ("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer "
                + key
                + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: "
                + json.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.write(json);
    out.flush();
    InputStream in = socket.getInputStream();
    String seen = "";
    byte[] buffer = new byte[1024];
    while (!seen.contains("word3 ")) {
      int read = in.read(buffer);
      assertThat(read).as("the stream ended before the client left").isPositive();
      seen += new String(buffer, 0, read, StandardCharsets.UTF_8);
    }
    return socket;
  }

  @Test
  void aClientThatGoesAwayMidStreamCancelsTheUpstreamAndIsChargedWithEstimatedTokens()
      throws Exception {
    int cancelled = upstream.streamsCancelled.get();
    endlessStream("sk-e2e-gone").close();

    await(() -> upstream.streamsCancelled.get() > cancelled);
    assertThat(upstream.streamsCancelled.get())
        .as("upstream call cancelled")
        .isGreaterThan(cancelled);
    await(() -> charges("sk-e2e-gone").size() == 1);
    Map<String, Object> charge = charges("sk-e2e-gone").get(0);
    assertThat(charge.get("estimated")).isEqualTo(true);
    assertThat((Long) charge.get("completion")).isPositive();
    assertThat((Long) charge.get("prompt")).isPositive();
  }

  @Test
  void aKeyWithALimitedBalanceRunsNoMoreCallsAtOnceThanTheCap() throws Exception {
    int cancelled = upstream.streamsCancelled.get();
    try (Socket first = endlessStream("sk-e2e-running");
        Socket second = endlessStream("sk-e2e-running")) {
      int before = upstream.calls.get();
      HttpResponse<String> refused = chat("sk-e2e-running", "gpt-4o", false);
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(refused.body())
          .contains(
              "This API key already has 2 calls running, the most it may run at once.",
              "too_many_running_calls");
      assertThat(upstream.calls.get()).isEqualTo(before);
    }
    // Both callers have gone: once the gateway has ended their calls the key may call again.
    await(() -> upstream.streamsCancelled.get() >= cancelled + 2);
    awaitAnswer("sk-e2e-running", "gpt-4o", 200);
    await(() -> charges("sk-e2e-running").size() == 3);
    assertThat(charges("sk-e2e-running")).hasSize(3);
  }

  @Test
  void aKeyWithNothingLeftIsRefusedWith429AndNoUpstreamCall() throws Exception {
    int before = upstream.calls.get();
    HttpResponse<String> refused = chat("sk-e2e-broke", "gpt-4o", false);
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.body())
        .contains("Balance is insufficient, please check your account.", "insufficient_quota");
    assertThat(upstream.calls.get()).isEqualTo(before);
  }

  @Test
  void aCountKeyIsAdmittedOnlyAsOftenAsItHasRequestsLeft() throws Exception {
    assertThat(chat("sk-e2e-two", "gpt-4o", false).statusCode()).isEqualTo(200);
    assertThat(chat("sk-e2e-two", "gpt-4o", false).statusCode()).isEqualTo(200);
    assertThat(chat("sk-e2e-two", "gpt-4o", false).statusCode()).isEqualTo(429);
    await(() -> charges("sk-e2e-two").size() == 2);
    assertThat(charges("sk-e2e-two")).hasSize(2);
  }

  @Test
  void aBalanceSpentThroughTheLedgerReachesTheGatewayWhichThenRefuses() throws Exception {
    // 0.003 USD: the first call costs 0.002 and leaves 0.001, the second takes it to -0.001.
    assertThat(chat("sk-e2e-small", "gpt-4o", false).statusCode()).isEqualTo(200);
    assertThat(chat("sk-e2e-small", "gpt-4o", false).statusCode()).isEqualTo(200);
    awaitAnswer("sk-e2e-small", "gpt-4o", 429);
    assertThat(chat("sk-e2e-small", "gpt-4o", false).statusCode()).isEqualTo(429);
    assertThat(usd("sk-e2e-small")).isGreaterThanOrEqualTo(new BigDecimal("0.004"));
  }

  @Test
  void aModelTheKeyMayNotUseIsRefusedWith403() throws Exception {
    HttpResponse<String> refused = chat("sk-e2e-count", "gpt-4o-mini", false);
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(chat("sk-unknown", "gpt-4o", false).statusCode()).isEqualTo(403);
  }

  /** Proxied calls bypass Spring MVC, so its request metric does not see them; this one does. */
  @Test
  void everyProxiedCallIsCountedInTheCallsMetricWithTheStatusTheCallerGot() throws Exception {
    double answeredBefore = callsMetric("/v1/chat/completions", 200);
    double refusedBefore = callsMetric("/v1/chat/completions", 403);
    assertThat(chat("sk-e2e-metrics", "gpt-4o", false).statusCode()).isEqualTo(200);
    assertThat(chat("sk-e2e-count", "gpt-4o-mini", false).statusCode()).isEqualTo(403);
    assertThat(chat("sk-e2e-count", "gpt-4o-mini", false).statusCode()).isEqualTo(403);
    assertThat(callsMetric("/v1/chat/completions", 200)).isEqualTo(answeredBefore + 1);
    assertThat(callsMetric("/v1/chat/completions", 403)).isEqualTo(refusedBefore + 2);
  }

  /** The COUNT of {@code tollgate.gateway.calls} for one endpoint and status, 0 before any. */
  static double callsMetric(String endpoint, int status) throws Exception {
    HttpResponse<String> answer =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        base
                            + "/actuator/metrics/tollgate.gateway.calls?tag=endpoint:"
                            + endpoint
                            + "&tag=status:"
                            + status))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (answer.statusCode() == 404) {
      return 0;
    }
    assertThat(answer.statusCode()).isEqualTo(200);
    JsonNode measurements =
        JsonMapper.builder().build().readTree(answer.body()).get("measurements");
    for (JsonNode measurement : measurements) {
      if (measurement.get("statistic").asString().equals("COUNT")) {
        return measurement.get("value").asDouble();
      }
    }
    throw new AssertionError("no COUNT in " + answer.body());
  }

  @Test
  void theRateLimitAnswers429WithRetryAfter() throws Exception {
    assertThat(chat("sk-e2e-limited", "gpt-4o", false).statusCode()).isEqualTo(200);
    assertThat(chat("sk-e2e-limited", "gpt-4o", false).statusCode()).isEqualTo(200);
    HttpResponse<String> limited = chat("sk-e2e-limited", "gpt-4o", false);
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After"))
        .hasValueSatisfying(seconds -> assertThat(Long.parseLong(seconds)).isBetween(1L, 60L));
  }

  @Test
  void theCallersKeyAndHeadersNeverReachTheUpstream() throws Exception {
    assertThat(chat("sk-e2e-headers", "gpt-4o", false).statusCode()).isEqualTo(200);
    assertThat(upstream.requestHeaders)
        .isNotEmpty()
        .allSatisfy(
            headers -> {
              assertThat(headers.get("Authorization"))
                  .containsExactly("Bearer " + FakeOpenAiUpstream.UPSTREAM_KEY);
              assertThat(headers).doesNotContainKey("X-client-secret");
              assertThat(headers.toString()).doesNotContain("sk-e2e", "must-not-leak");
            });
  }

  @Test
  void embeddingsAreProxiedAndCharged() throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + "/v1/embeddings"))
            .header("Authorization", "Bearer sk-e2e-embed")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"model\":\"text-embedding-3-small\",\"input\":\"hello\"}"))
            .build();
    HttpResponse<String> answer = http.send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).contains("embedding");
    await(() -> charges("sk-e2e-embed").size() == 1);
    assertThat(charges("sk-e2e-embed").get(0).get("prompt")).isEqualTo(8L);
  }

  /** A gpt-4o call of 1,000 prompt and 500 completion tokens, or a failed one (500, no tokens). */
  private static RequestCompleted gpt4oCall(String id, String keyId, boolean success, Instant end) {
    return new RequestCompleted(
        id,
        keyId,
        "gpt-4o",
        "/v1/chat/completions",
        "fake",
        success,
        success ? 200 : 500,
        success ? 1000 : 0,
        success ? 500 : 0,
        false,
        end.minusMillis(100),
        end);
  }

  @Test
  void theSameEventPublishedTwiceIsChargedOnce() throws Exception {
    String keyId = KeyIds.of("sk-e2e-replay");
    Instant end = Instant.now();
    RequestCompleted request = gpt4oCall("req_replay_" + UUID.randomUUID(), keyId, true, end);
    byte[] message = CloudEventCodec.encode(request, "/test");
    produce("tollgate.kafka.requests-topic", keyId, message);
    produce("tollgate.kafka.requests-topic", keyId, message);
    RequestCompleted marker = gpt4oCall("req_marker_" + UUID.randomUUID(), keyId, false, end);
    produce("tollgate.kafka.requests-topic", keyId, CloudEventCodec.encode(marker, "/test"));
    await(() -> events("sk-e2e-replay", "RequestFailed") == 1);
    assertThat(charges("sk-e2e-replay")).hasSize(1);
    assertThat(usd("sk-e2e-replay")).isEqualByComparingTo("0.002");
  }

  @Test
  void aMalformedMessageIsDeadLetteredWithItsReasonAndTheNextGoodOneIsCharged() throws Exception {
    String keyId = KeyIds.of("sk-e2e-dlt");
    produce("tollgate.kafka.requests-topic", keyId, "{not json".getBytes(StandardCharsets.UTF_8));
    Instant end = Instant.now();
    RequestCompleted good = gpt4oCall("req_dlt_" + UUID.randomUUID(), keyId, true, end);
    produce("tollgate.kafka.requests-topic", keyId, CloudEventCodec.encode(good, "/test"));

    await(() -> charges("sk-e2e-dlt").size() == 1);
    assertThat(charges("sk-e2e-dlt")).hasSize(1);

    Map<String, Object> settings =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafkaClient().get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG),
            ConsumerConfig.GROUP_ID_CONFIG,
            "dlt-reader-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest");
    String reason = null;
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(settings, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(
          List.of(app.getEnvironment().getProperty("tollgate.kafka.dead-letter-topic")));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (reason == null && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          if (new String(record.value(), StandardCharsets.UTF_8).equals("{not json")) {
            reason =
                new String(
                    record.headers().lastHeader(RequestIntake.REASON_HEADER).value(),
                    StandardCharsets.UTF_8);
          }
        }
      }
    }
    assertThat(reason).contains("not JSON");
  }

  @Test
  void theOfficialOpenAiJavaClientTalksToTheGatewayStreamingAndNot() throws Exception {
    OpenAIClient client =
        OpenAIOkHttpClient.builder().apiKey("sk-e2e-openai").baseUrl(base + "/v1").build();
    ChatCompletionCreateParams params =
        ChatCompletionCreateParams.builder().model("gpt-4o").addUserMessage("Say hello.").build();

    ChatCompletion completion = client.chat().completions().create(params);
    assertThat(completion.choices().get(0).message().content()).hasValue("Hello there.");
    assertThat(completion.usage())
        .hasValueSatisfying(usage -> assertThat(usage.promptTokens()).isEqualTo(1000));

    StringBuilder streamed = new StringBuilder();
    try (StreamResponse<ChatCompletionChunk> stream =
        client.chat().completions().createStreaming(params)) {
      stream.stream()
          .forEach(
              chunk ->
                  chunk
                      .choices()
                      .forEach(choice -> choice.delta().content().ifPresent(streamed::append)));
    }
    assertThat(streamed.toString()).isEqualTo("Hello.");

    await(() -> charges("sk-e2e-openai").size() == 2);
    assertThat(usd("sk-e2e-openai")).isEqualByComparingTo("0.006");
  }
}
