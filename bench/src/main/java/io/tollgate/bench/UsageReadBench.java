package io.tollgate.bench;

import io.tollgate.gateway.proxy.AnswerUsage;
import io.tollgate.gateway.proxy.CallBody;
import io.tollgate.gateway.proxy.SseUsageScanner;
import io.tollgate.gateway.proxy.TokenEstimator;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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

  /** Keeps results alive so the JIT cannot drop the work. */
  private static long sink;

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
    // Every reader is warmed before any is timed, so the JIT has compiled them all at its top tier.
    for (int round = 0; round < 10; round++) {
      for (LongSupplier reader : readers) {
        for (int i = 0; i < perRound; i++) {
          sink += reader.getAsLong();
        }
      }
    }
    System.out.println("| answer | reader | µs per answer | bytes allocated per answer |");
    System.out.println("|---|---|---:|---:|");
    for (int i = 0; i < readers.length; i++) {
      run(names[i][0], names[i][1], readers[i], perRound);
    }
    System.out.println("(sink " + sink + ")");
  }

  private static void check(long streaming, long tree) {
    if (streaming != tree) {
      throw new IllegalStateException("readers disagree: " + streaming + " against " + tree);
    }
  }

  /** Five timed rounds; prints the median round. */
  private static void run(String answer, String reader, LongSupplier read, int perRound) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long self = Thread.currentThread().getId();
    double[] micros = new double[5];
    double[] bytes = new double[5];
    for (int round = 0; round < 5; round++) {
      long allocatedBefore = threads.getThreadAllocatedBytes(self);
      long cpuBefore = threads.getCurrentThreadCpuTime();
      for (int i = 0; i < perRound; i++) {
        sink += read.getAsLong();
      }
      long cpu = threads.getCurrentThreadCpuTime() - cpuBefore;
      long allocated = threads.getThreadAllocatedBytes(self) - allocatedBefore;
      micros[round] = cpu / 1000.0 / perRound;
      bytes[round] = (double) allocated / perRound;
    }
    Arrays.sort(micros);
    Arrays.sort(bytes);
    System.out.printf("| %s | %s | %.3f | %.0f |%n", answer, reader, micros[2], bytes[2]);
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
