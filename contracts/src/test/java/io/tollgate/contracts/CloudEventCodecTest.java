package io.tollgate.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.contracts.CloudEventCodec.MalformedEventException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CloudEventCodecTest {

  private static final Instant END = Instant.parse("2026-01-02T03:04:05.678Z");
  private static final RequestCompleted REQUEST =
      new RequestCompleted(
          "req-1",
          KeyIds.of("sk-a"),
          "gpt-4o",
          "/v1/chat/completions",
          "openai",
          true,
          200,
          1000,
          500,
          true,
          END.minusSeconds(2),
          END);

  @Test
  void aRequestCompletedIsACloudEventWhoseIdIsTheRequestId() {
    String json =
        new String(CloudEventCodec.encode(REQUEST, "/tollgate/gateway"), StandardCharsets.UTF_8);
    assertThat(json)
        .contains(
            "\"specversion\":\"1.0\"",
            "\"id\":\"req-1\"",
            "\"source\":\"/tollgate/gateway\"",
            "\"type\":\"" + RequestCompleted.TYPE + "\"",
            "\"subject\":\"" + REQUEST.keyId() + "\"",
            "\"time\":\"2026-01-02T03:04:05.678Z\"");
    assertThat(CloudEventCodec.decodeRequestCompleted(json.getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(REQUEST);
  }

  @Test
  void aKeyBalanceKeepsItsExactAmountsAndUnlimitedAsNull() {
    KeyBalance balance =
        new KeyBalance(KeyIds.of("sk-a"), "count", new BigDecimal("0.000720"), null, true, 42, END);
    KeyBalance read =
        CloudEventCodec.decodeKeyBalance(CloudEventCodec.encode(balance, "/tollgate/ledger"));
    assertThat(read).isEqualTo(balance);
    assertThat(read.usdLeft().toPlainString()).isEqualTo("0.000720");
    assertThat(read.requestsUnlimited()).isTrue();
  }

  @Test
  void whatIsNotOneSaysWhy() {
    assertThatThrownBy(
            () ->
                CloudEventCodec.decodeRequestCompleted(
                    "{not json".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("not JSON");
    assertThatThrownBy(() -> CloudEventCodec.decodeRequestCompleted(new byte[0]))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("empty");
    assertThatThrownBy(
            () ->
                CloudEventCodec.decodeRequestCompleted(
                    CloudEventCodec.encode(
                        new KeyBalance(KeyIds.of("sk-a"), "token", null, null, true, 1, END),
                        "/x")))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("type is " + KeyBalance.TYPE);
    assertThatThrownBy(
            () ->
                CloudEventCodec.decodeRequestCompleted(
                    "{\"specversion\":\"0.3\",\"id\":\"a\",\"source\":\"/x\",\"type\":\"t\"}"
                        .getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("specversion");
    assertThatThrownBy(
            () ->
                CloudEventCodec.decodeRequestCompleted(
                    ("{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/x\",\"type\":\""
                            + RequestCompleted.TYPE
                            + "\"}")
                        .getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("data");
  }
}
