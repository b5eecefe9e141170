package io.tollgate.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SseUsageScannerTest {

  private static final String STREAM =
      """
      data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}

      data: {"choices":[{"index":0,"delta":{"content":"lo."}}]}

      data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}

      data: [DONE]

      """;

  private final SseUsageScanner scanner = new SseUsageScanner(ProxyJson.mapper());

  private void feedInPieces(String text, int pieceSize) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    for (int from = 0; from < bytes.length; from += pieceSize) {
      scanner.feed(bytes, from, Math.min(pieceSize, bytes.length - from));
    }
  }

  @Test
  void usageIsReadWhateverTheReadBoundaries() {
    for (int pieceSize : new int[] {1, 2, 3, 7, 16, 50, 1000}) {
      SseUsageScanner fresh = new SseUsageScanner(ProxyJson.mapper());
      byte[] bytes = STREAM.getBytes(StandardCharsets.UTF_8);
      for (int from = 0; from < bytes.length; from += pieceSize) {
        fresh.feed(bytes, from, Math.min(pieceSize, bytes.length - from));
      }
      assertThat(fresh.hasUsage()).as("pieces of %d bytes", pieceSize).isTrue();
      assertThat(fresh.promptTokens()).isEqualTo(12);
      assertThat(fresh.completionTokens()).isEqualTo(34);
      assertThat(fresh.generatedText()).isEqualTo("Hello.");
      assertThat(fresh.sawDone()).isTrue();
    }
  }

  @Test
  void severalEventsInOneReadAreEachSeen() {
    scanner.feed(STREAM.getBytes(StandardCharsets.UTF_8), 0, STREAM.length());
    assertThat(scanner.generatedText()).isEqualTo("Hello.");
    assertThat(scanner.hasUsage()).isTrue();
  }

  @Test
  void crlfLineEndsAreRead() {
    feedInPieces(STREAM.replace("\n", "\r\n"), 5);
    assertThat(scanner.promptTokens()).isEqualTo(12);
    assertThat(scanner.generatedText()).isEqualTo("Hello.");
  }

  @Test
  void aStreamCutBeforeItsUsageHasOutputButNoUsage() {
    feedInPieces(STREAM.substring(0, STREAM.indexOf("data: {\"choices\":[],")), 4);
    assertThat(scanner.sawOutput()).isTrue();
    assertThat(scanner.hasUsage()).isFalse();
    assertThat(scanner.generatedText()).isEqualTo("Hello.");
  }

  @Test
  void aMultiByteCharacterSplitAcrossReadsIsKeptWhole() {
    String text = "data: {\"choices\":[{\"delta\":{\"content\":\"h\u00e9llo \u4f60\u597d\"}}]}\n\n";
    feedInPieces(text, 1);
    assertThat(scanner.generatedText()).isEqualTo("h\u00e9llo \u4f60\u597d");
  }

  @Test
  void aToolCallDeltaCountsAsOutputWithItsJsonAsSent() {
    String toolDelta =
        "{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]}";
    feedInPieces(
        "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"
            + "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":"
            + toolDelta
            + "}]}\n\n",
        7);
    assertThat(scanner.sawOutput()).isTrue();
    assertThat(scanner.generatedText()).isEqualTo("x" + toolDelta);
    assertThat(scanner.hasUsage()).isFalse();
  }

  @Test
  void aRefusalCountsAsOutputAndANullOneDoesNot() {
    feedInPieces("data: {\"choices\":[{\"delta\":{\"refusal\":null}}]}\n\n", 3);
    assertThat(scanner.sawOutput()).isFalse();
    feedInPieces("data: {\"choices\":[{\"delta\":{\"refusal\":\"no\"}}]}\n\n", 3);
    assertThat(scanner.sawOutput()).isTrue();
    assertThat(scanner.generatedText()).isEqualTo("{\"refusal\":\"no\"}");
  }

  @Test
  void anEventThatIsNotWholeJsonChangesNothing() {
    feedInPieces(
        "data: {\"choices\":[{\"delta\":{\"content\":\"lost\"}}],"
            + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}\n\n"
            + "data: {\"choices\":[]} {\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":8}}\n\n"
            + "data: not json\n\n",
        4);
    assertThat(scanner.sawOutput()).isFalse();
    assertThat(scanner.generatedText()).isEmpty();
    assertThat(scanner.hasUsage()).isFalse();
  }

  @Test
  void usageCountsAreReadAsATreeWouldReadThem() {
    feedInPieces(
        "data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2},"
            + "\"usage\":{\"prompt_tokens\":\"12\",\"completion_tokens\":34.0}}\n\n",
        5);
    assertThat(scanner.promptTokens()).isEqualTo(12);
    assertThat(scanner.completionTokens()).isEqualTo(34);
    feedInPieces(
        "data: {\"usage\":{\"prompt_tokens\":null,\"completion_tokens\":\"many\"}}\n\n", 5);
    assertThat(scanner.promptTokens()).isEqualTo(12);
    assertThat(scanner.completionTokens()).isEqualTo(34);
  }

  @Test
  void theLastOfDuplicateChoicesAndDeltasWins() {
    feedInPieces(
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],"
            + "\"choices\":[{\"delta\":{\"content\":\"b\"},\"delta\":{\"content\":\"c\"}},"
            + "{\"delta\":{\"content\":\"d\"}}]}\n\n",
        6);
    assertThat(scanner.generatedText()).isEqualTo("cd");
  }
}
