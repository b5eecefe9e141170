package io.tollgate.contracts;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.contracts.CloudEventCodec.MalformedEventException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

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

  /**
   * The streaming encoder writes the bytes the tree-based one wrote (an envelope {@code ObjectNode}
   * with the data as {@code valueToTree}), so consumers and stored journals see no change.
   */
  @Test
  void theEncodingIsByteForByteThatOfTheEventBuiltAsATree() {
    JsonMapper json =
        JsonMapper.builder().disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS).build();
    RequestCompleted nulls =
        new RequestCompleted(
            "req-\"2\"",
            KeyIds.of("sk-b"),
            "m\u00e9",
            "/v1/embeddings",
            null,
            false,
            502,
            0,
            0,
            false,
            Instant.parse("2026-01-02T03:04:05Z"),
            Instant.parse("2026-01-02T03:04:05.000000123Z"));
    for (RequestCompleted request : List.of(REQUEST, nulls)) {
      assertThat(new String(CloudEventCodec.encode(request, "/tollgate/gateway"), UTF_8))
          .isEqualTo(
              asTree(
                  json,
                  request.requestId(),
                  RequestCompleted.TYPE,
                  request.keyId(),
                  request.completedAt(),
                  request));
    }
    for (KeyBalance balance :
        List.of(
            new KeyBalance(
                KeyIds.of("sk-a"), "count", new BigDecimal("0.000720"), 7L, true, 42, END),
            new KeyBalance(KeyIds.of("sk-a"), "token", null, null, false, 1, END))) {
      assertThat(new String(CloudEventCodec.encode(balance, "/tollgate/gateway"), UTF_8))
          .isEqualTo(
              asTree(
                  json,
                  balance.keyId() + "-" + balance.version(),
                  KeyBalance.TYPE,
                  balance.keyId(),
                  balance.at(),
                  balance));
    }
  }

  private static String asTree(
      JsonMapper json, String id, String type, String subject, Instant time, Object data) {
    ObjectNode event = json.createObjectNode();
    event.put("specversion", "1.0");
    event.put("id", id);
    event.put("source", "/tollgate/gateway");
    event.put("type", type);
    event.put("subject", subject);
    event.put("time", time.toString());
    event.put("datacontenttype", "application/json");
    event.set("data", json.valueToTree(data));
    return new String(json.writeValueAsBytes(event), UTF_8);
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

  /**
   * A producer other than Tollgate's own may order the members as it likes: data before the
   * attributes is held until they are known, and a time in another form goes to Jackson's parser.
   */
  @Test
  void membersInAnyOrderAndTimesInAnyIsoFormReadTheSame() {
    String data =
        new String(CloudEventCodec.encode(REQUEST, "/x"), UTF_8)
            .replaceFirst("^.*\"data\":", "")
            .replaceFirst("}$", "");
    String reordered =
        "{\"data\":"
            + data
            + ",\"type\":\""
            + RequestCompleted.TYPE
            + "\",\"source\":\"/other\",\"id\":\"req-1\",\"specversion\":\"1.0\"}";
    assertThat(CloudEventCodec.decodeRequestCompleted(reordered.getBytes(UTF_8)))
        .isEqualTo(REQUEST);

    String offset =
        new String(CloudEventCodec.encode(REQUEST, "/x"), UTF_8)
            .replace(
                "\"startedAt\":\"2026-01-02T03:04:03.678Z\"",
                "\"startedAt\":\"2026-01-02T04:04:03.678+01:00\"");
    assertThat(offset).contains("+01:00");
    assertThat(CloudEventCodec.decodeRequestCompleted(offset.getBytes(UTF_8))).isEqualTo(REQUEST);
  }

  @Test
  void dataThatDoesNotFitOrIsNotJsonSaysWhichWhereverItStands() {
    String good = new String(CloudEventCodec.encode(REQUEST, "/x"), UTF_8);
    String wrongField = good.replace("\"httpStatus\":200", "\"httpStatus\":\"two hundred\"");
    String dataFirst =
        "{\"data\":{\"httpStatus\":\"two hundred\"},\"specversion\":\"1.0\",\"id\":\"a\","
            + "\"source\":\"/x\",\"type\":\""
            + RequestCompleted.TYPE
            + "\"}";
    for (String message : List.of(wrongField, dataFirst)) {
      assertThatThrownBy(() -> CloudEventCodec.decodeRequestCompleted(message.getBytes(UTF_8)))
          .as(message)
          .isInstanceOf(MalformedEventException.class)
          .hasMessageContaining("data does not fit RequestCompleted")
          .hasMessageContaining("httpStatus");
    }
    for (String message :
        List.of(
            good.replace("\"httpStatus\":200", "\"httpStatus\":200,,"),
            good + "{}",
            good.substring(0, good.length() - 2))) {
      assertThatThrownBy(() -> CloudEventCodec.decodeRequestCompleted(message.getBytes(UTF_8)))
          .as(message)
          .isInstanceOf(MalformedEventException.class)
          .hasMessageContaining("not JSON");
    }
    assertThatThrownBy(() -> CloudEventCodec.decodeRequestCompleted("[1]".getBytes(UTF_8)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("not a JSON object");
    assertThatThrownBy(
            () ->
                CloudEventCodec.decodeRequestCompleted(
                    good.replace("\"source\":\"/x\"", "\"source\":{\"a\":1}").getBytes(UTF_8)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("attribute source is missing");
  }
}
