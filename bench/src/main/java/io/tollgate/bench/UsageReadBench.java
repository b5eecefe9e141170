package io.tollgate.bench;

import io.tollgate.gateway.proxy.AnswerUsage;
import io.tollgate.gateway.proxy.CallBody;
import io.tollgate.gateway.proxy.SseUsageScanner;
import io.tollgate.gateway.proxy.TokenEstimator;
import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * CPU time and allocation of reading the tokens an answer used, per answer, on the gateway
 * benchmark's own answers ({@code bench/gateway/nginx.conf}): the gateway's streaming readers
 * against a tree per event (what they replaced: {@code readTree} of each SSE {@code data:} line, or
 * of the JSON answer's {@code usage}).
 *
 * <p>Run: {@code ./mvnw -q -DskipTests install && java -cp "bench/target/classes:$(cat
 * bench/target/classpath.txt)" io.tollgate.bench.UsageReadBench [answers per round]}: see
 * bench/README.md.
 */
public final class UsageReadBench {

  private static final String CHUNK =
      "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"fast\",";
  static final byte[] STREAM =
      ("data: "
              + CHUNK
              + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n"
              + "data: "
              + CHUNK
              + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo.\"}}]}\n\n"
              + "data: "
              + CHUNK
              + "\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,"
              + "\"total_tokens\":15}}\n\n"
              + "data: [DONE]\n\n")
          .getBytes(StandardCharsets.UTF_8);
  static final byte[] ANSWER =
      ("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1700000000,"
              + "\"model\":\"fast\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
              + "\"content\":\"Hello there.\"},\"finish_reason\":\"stop\"}],"
              + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}")
          .getBytes(StandardCharsets.UTF_8);
  private static final byte[] REQUEST =
      "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}"
          .getBytes(StandardCharsets.UTF_8);

  private static final ObjectMapper JSON = JsonMapper.builder().build();

  public static void main(String[] args) {
    int perRound = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    CallBody request = CallBody.parse(JSON, REQUEST);
    AnswerUsage usage = new AnswerUsage(JSON, new TokenEstimator());
    check(streamed(), tree());
    check(usage.ofWhole(ANSWER, request).completionTokens(), treeWhole());

    LongSupplier[] readers = {
      UsageReadBench::tree,
      UsageReadBench::streamed,
      UsageReadBench::treeWhole,
      () -> usage.ofWhole(ANSWER, request).promptTokens()
    };
    String[][] names = {
      {"sse, 4 events", "tree per event"},
      {"sse, 4 events", "streaming (SseUsageScanner)"},
      {"json", "tree of usage"},
      {"json", "streaming (AnswerUsage)"}
    };
    ThreadCost.table(
        perRound,
        readers,
        names,
        "answer",
        "reader",
        "µs per answer",
        "bytes allocated per answer");
  }

  private static void check(long streaming, long tree) {
    if (streaming != tree) {
      throw new IllegalStateException("readers disagree: " + streaming + " against " + tree);
    }
  }

  private static long streamed() {
    SseUsageScanner scanner = new SseUsageScanner(JSON);
    scanner.feed(STREAM, 0, STREAM.length);
    return scanner.completionTokens() + scanner.generatedText().length();
  }

  /** The scanner as it was: each line a String, each data line a tree. */
  private static long tree() {
    long completion = 0;
    StringBuilder generated = new StringBuilder();
    int start = 0;
    for (int i = 0; i < STREAM.length; i++) {
      if (STREAM[i] != '\n') {
        continue;
      }
      String line = new String(STREAM, start, i - start, StandardCharsets.UTF_8);
      start = i + 1;
      if (line.length() < 5 || !line.startsWith("data:")) {
        continue;
      }
      String data = line.substring(5).strip();
      if (data.equals("[DONE]")) {
        continue;
      }
      JsonNode event = JSON.readTree(data);
      JsonNode usage = event.get("usage");
      if (usage != null && usage.hasNonNull("completion_tokens")) {
        completion = usage.get("completion_tokens").asLong();
      }
      for (JsonNode choice : event.path("choices")) {
        JsonNode content = choice.path("delta").path("content");
        if (content.isString()) {
          generated.append(content.asString());
        }
      }
    }
    return completion + generated.length();
  }

  /** The JSON answer's usage as it was read: a streaming pass that made a tree of it. */
  private static long treeWhole() {
    JsonNode usage = null;
    try (JsonParser parser = JSON.createParser(ANSWER)) {
      parser.nextToken();
      while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
        String name = parser.currentName();
        parser.nextToken();
        if (name.equals("usage")) {
          usage = parser.readValueAsTree();
        } else {
          parser.skipChildren();
        }
      }
    }
    return usage.get("completion_tokens").asLong();
  }
}
