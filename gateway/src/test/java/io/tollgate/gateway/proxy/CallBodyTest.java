package io.tollgate.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

class CallBodyTest {

  private final ObjectMapper json = JsonMapper.builder().build();

  private CallBody parse(String body) {
    return CallBody.parse(json, body.getBytes(StandardCharsets.UTF_8));
  }

  private JsonNode upstream(String body, boolean askUsage) {
    return json.readTree(parse(body).forUpstream("upstream-model", askUsage));
  }

  @Test
  void onlyOneJsonObjectIsABody() {
    assertThat(parse("")).isNull();
    assertThat(parse("[1]")).isNull();
    assertThat(parse("\"text\"")).isNull();
    assertThat(parse("{\"model\":")).isNull();
    assertThat(parse("{\"model\":\"a\"} trailing")).isNull();
    assertThat(parse("{\"model\":\"a\"}{}")).isNull();
    assertThat(parse(" {\"model\":\"a\"} \n")).isNotNull();
  }

  @Test
  void fieldsAreReadAsATreeWouldReadThem() {
    assertThat(parse("{\"model\":\"a\",\"messages\":[{\"model\":\"b\"}]}").model()).isEqualTo("a");
    assertThat(parse("{\"model\":\"a\",\"model\":\"b\"}").model()).isEqualTo("b");
    assertThat(parse("{\"model\":7}").model()).isNull();
    assertThat(parse("{\"model\":{\"name\":\"a\"}}").model()).isNull();
    assertThat(parse("{\"stream\":true}").stream()).isTrue();
    assertThat(parse("{\"stream\":false}").stream()).isFalse();
    assertThat(parse("{\"stream\":\"true\"}").stream()).isTrue();
    assertThat(parse("{\"stream\":1}").stream()).isTrue();
    assertThat(parse("{\"stream\":0}").stream()).isFalse();
    assertThat(parse("{\"stream\":null}").stream()).isFalse();
    assertThat(parse("{\"stream\":{\"a\":true}}").stream()).isFalse();
    assertThat(parse("{}").stream()).isFalse();
  }

  @Test
  void theUpstreamCopyRenamesTheModelAndKeepsEverythingElse() {
    String body =
        "{\"model\":\"public\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi \\u00e9\"}],"
            + "\"temperature\":0.7,\"n\":1,\"tools\":[],\"metadata\":{\"model\":\"keep\"}}";
    JsonNode sent = upstream(body, false);
    JsonNode expected = json.readTree(body);
    ((tools.jackson.databind.node.ObjectNode) expected).put("model", "upstream-model");
    assertThat(sent).isEqualTo(expected);
    assertThat(sent.has("stream_options")).isFalse();
  }

  @Test
  void aStreamAsksForUsageInPlaceOfTheCallersStreamOptions() {
    JsonNode added = upstream("{\"model\":\"a\",\"stream\":true}", true);
    assertThat(added.get("stream_options").get("include_usage").asBoolean()).isTrue();

    JsonNode replaced =
        upstream(
            "{\"model\":\"a\",\"stream_options\":{\"include_usage\":false,\"x\":1},\"stream\":true}",
            true);
    assertThat(replaced.get("stream_options").toString()).isEqualTo("{\"include_usage\":true}");
    assertThat(replaced.propertyNames()).containsExactly("model", "stream_options", "stream");
  }

  @Test
  void theUpstreamSeesOnceWhatTheGatewayReadWhereNamesRepeat() {
    JsonNode sent =
        upstream("{\"stream\":true,\"model\":\"a\",\"stream\":false,\"model\":\"b\"}", false);
    assertThat(sent.propertyNames()).containsExactly("stream", "model");
    assertThat(sent.get("stream").asBoolean()).isFalse();
    assertThat(sent.get("model").asString()).isEqualTo("upstream-model");
    // The raw text too: a parser that keeps the first of duplicate names sees the same values.
    String text =
        new String(
            parse("{\"stream\":false,\"stream\":\"true\"}").forUpstream("m", true),
            StandardCharsets.UTF_8);
    assertThat(text).isEqualTo("{\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
  }

  @Test
  void theTreeIsThereForEstimates() {
    CallBody body = parse("{\"model\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(body.tree().get("messages").size()).isEqualTo(1);
  }
}
