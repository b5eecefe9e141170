package io.tollgate.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

class CallBodyTest {

  private final ObjectMapper json = ProxyJson.mapper();

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

  /**
   * The copy is spliced from the caller's bytes where no changed field repeats. Whatever the body's
   * shape (the changed fields first, last, absent, next to numbers, nested, before whitespace), it
   * reads as the caller's tree with the three fields changed in place, in the caller's order.
   */
  @Test
  void theSplicedCopyIsTheCallersTreeWithTheThreeFieldsChanged() {
    List<String> bodies =
        List.of(
            "{}",
            " { } ",
            "{\"model\":\"a\"}",
            "{\"stream\":1,\"model\":\"a\"}",
            "{\"model\":\"a\",\"stream\":0}",
            "{\"model\":\"a\",\"stream\":true,\"n\":12}",
            "{\"n\":1.5e3,\"stream\":\"yes\",\"model\":\"\\u0061\\\"b\"}",
            "{ \"model\" : \"a\" ,\n \"stream\" : { \"x\" : [1, 2] } ,\"stream_options\" : null }",
            "{\"stream_options\":{\"include_usage\":false},\"model\":{\"nested\":\"model\"}}",
            "{\"messages\":[{\"model\":\"x\",\"stream\":false}],\"stream\":true}\n",
            "{\"model\":\"\u00e9\u4e2d\",\"messages\":[],\"stream\":null,\"top_p\":-0.0}");
    for (String body : bodies) {
      for (boolean askUsage : new boolean[] {false, true}) {
        JsonNode sent = upstream(body, askUsage);
        ObjectNode expected = (ObjectNode) json.readTree(body);
        if (expected.has("model")) {
          expected.put("model", "upstream-model");
        }
        if (expected.has("stream")) {
          expected.put("stream", parse(body).stream());
        }
        if (askUsage) {
          expected.putObject("stream_options").put("include_usage", true);
        }
        assertThat(sent).as("%s, usage asked: %s", body, askUsage).isEqualTo(expected);
        assertThat(sent.propertyNames())
            .as("%s, usage asked: %s", body, askUsage)
            .containsExactlyElementsOf(expected.propertyNames());
      }
    }
  }

  @Test
  void everyOtherByteOfTheCallersBodyGoesUpstreamAsItWas() {
    String body =
        "{ \"model\" : \"public\", \"messages\":[{\"content\":\"\\u00e9 \\\"q\\\"\"}],"
            + " \"n\": 1e3 ,\"stream\":1 }";
    assertThat(new String(parse(body).forUpstream("up\"stream", true), StandardCharsets.UTF_8))
        .isEqualTo(
            "{ \"model\" : \"up\\\"stream\", \"messages\":[{\"content\":\"\\u00e9 \\\"q\\\"\"}],"
                + " \"n\": 1e3 ,\"stream\":true ,\"stream_options\":{\"include_usage\":true}}");
  }

  @Test
  void aBodyWithAByteOrderMarkIsCopiedByTokens() {
    byte[] body = "\uFEFF{\"model\":\"a\",\"n\": 1}".getBytes(StandardCharsets.UTF_8);
    assertThat(
            new String(CallBody.parse(json, body).forUpstream("m", false), StandardCharsets.UTF_8))
        .isEqualTo("{\"model\":\"m\",\"n\":1}");
  }

  @Test
  void theTreeIsThereForEstimates() {
    CallBody body = parse("{\"model\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertThat(body.tree().get("messages").size()).isEqualTo(1);
  }
}
