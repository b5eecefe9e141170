package io.tollgate.bench;

import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.gateway.proxy.CallBody;
import io.tollgate.gateway.proxy.ProxyJson;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.function.LongSupplier;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * CPU time and allocation of the two pieces of JSON the gateway writes per call, on the gateway
 * benchmark's own calls ({@code bench/gateway/chat.lua} and {@code chat-stream.lua}): the caller's
 * body read and copied for the upstream (its model renamed and, for a stream, usage asked for), and
 * the call's {@code RequestCompleted} encoded as its CloudEvent.
 *
 * <p>Run: {@code ./mvnw -q -DskipTests install && java -cp "bench/target/classes:$(cat
 * bench/target/classpath.txt)" io.tollgate.bench.CallCopyBench [operations per round]}: see
 * bench/README.md.
 */
public final class CallCopyBench {

  private static final byte[] JSON_CALL =
      "{\"model\":\"fast\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}"
          .getBytes(StandardCharsets.UTF_8);
  private static final byte[] STREAM_CALL =
      ("{\"model\":\"fast\",\"stream\":true,"
              + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}")
          .getBytes(StandardCharsets.UTF_8);

  private static final ObjectMapper JSON = ProxyJson.mapper();

  /** Jackson's default mapper, whose buffer pool is a concurrent deque: for comparison. */
  private static final ObjectMapper DEFAULT_POOL = JsonMapper.builder().build();

  private static final RequestCompleted EVENT =
      new RequestCompleted(
          "req_0b5e3a51-7d0c-4c1e-9b7a-2f4f8e1d6c3a",
          KeyIds.of("sk-bench-0"),
          "fast",
          "/v1/chat/completions",
          "local",
          true,
          200,
          12,
          3,
          false,
          Instant.parse("2026-12-02T15:00:00.123456Z"),
          Instant.parse("2026-12-02T15:00:00.124001Z"));

  public static void main(String[] args) {
    int perRound = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    LongSupplier[] operations = {
      () -> CallBody.parse(JSON, JSON_CALL).forUpstream("fast", false).length,
      () -> CallBody.parse(JSON, STREAM_CALL).forUpstream("fast", true).length,
      () -> CloudEventCodec.encode(EVENT, "/tollgate/gateway").length,
      () -> CallBody.parse(DEFAULT_POOL, JSON_CALL).forUpstream("fast", false).length,
      () -> CallBody.parse(DEFAULT_POOL, STREAM_CALL).forUpstream("fast", true).length
    };
    String[][] names = {
      {"json call: read and copied for the upstream"},
      {"stream call: read and copied, usage asked for"},
      {"RequestCompleted encoded as a CloudEvent"},
      {"json call, with Jackson's default buffer pool"},
      {"stream call, with Jackson's default buffer pool"}
    };
    ThreadCost.table(
        perRound,
        operations,
        names,
        "operation",
        "µs per operation",
        "bytes allocated per operation");
  }
}
