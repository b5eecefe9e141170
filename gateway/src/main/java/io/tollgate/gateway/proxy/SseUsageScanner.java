package io.tollgate.gateway.proxy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * Reads an OpenAI server-sent event stream as it passes through, without holding it back: it is fed
 * the bytes of each network read, whatever their boundaries, and keeps only the unfinished line
 * between reads. An event split across reads is joined; several events in one read are each seen.
 * It keeps the last {@code usage} object seen and the text generated so far, so that the tokens can
 * be estimated when the stream ends before the usage chunk.
 */
public final class SseUsageScanner {

  private final ObjectMapper json;

  /** The unfinished line of the last read; a line that ends within one read is not copied. */
  private byte[] partial = new byte[256];

  private int partialLength;
  private final StringBuilder generated = new StringBuilder();
  private Long promptTokens;
  private Long completionTokens;
  private boolean sawOutput;
  private boolean sawDone;

  public SseUsageScanner(ObjectMapper json) {
    this.json = json;
  }

  public void feed(byte[] bytes, int offset, int length) {
    int end = offset + length;
    int start = offset;
    for (int i = offset; i < end; i++) {
      if (bytes[i] != '\n') {
        continue;
      }
      if (partialLength == 0) {
        onLine(bytes, start, i - start);
      } else {
        keep(bytes, start, i - start);
        onLine(partial, 0, partialLength);
        partialLength = 0;
      }
      start = i + 1;
    }
    keep(bytes, start, end - start);
  }

  private void keep(byte[] bytes, int offset, int length) {
    if (partialLength + length > partial.length) {
      partial = Arrays.copyOf(partial, Math.max(partial.length * 2, partialLength + length));
    }
    System.arraycopy(bytes, offset, partial, partialLength, length);
    partialLength += length;
  }

  /** True once the upstream has sent any part of an answer: from then on the call costs money. */
  public boolean sawOutput() {
    return sawOutput;
  }

  public boolean sawDone() {
    return sawDone;
  }

  public boolean hasUsage() {
    return promptTokens != null && completionTokens != null;
  }

  public long promptTokens() {
    return promptTokens == null ? 0 : promptTokens;
  }

  public long completionTokens() {
    return completionTokens == null ? 0 : completionTokens;
  }

  public String generatedText() {
    return generated.toString();
  }

  private void onLine(byte[] bytes, int offset, int size) {
    if (size < 5) {
      return;
    }
    String text = new String(bytes, offset, size, StandardCharsets.UTF_8);
    if (text.endsWith("\r")) {
      text = text.substring(0, text.length() - 1);
    }
    if (!text.startsWith("data:")) {
      return;
    }
    String data = text.substring(5).strip();
    if (data.equals("[DONE]")) {
      sawDone = true;
      return;
    }
    JsonNode event;
    try {
      event = json.readTree(data);
    } catch (JacksonException notJson) {
      return;
    }
    JsonNode usage = event.get("usage");
    if (usage != null && usage.isObject()) {
      if (usage.hasNonNull("prompt_tokens")) {
        promptTokens = usage.get("prompt_tokens").asLong();
      }
      if (usage.hasNonNull("completion_tokens")) {
        completionTokens = usage.get("completion_tokens").asLong();
      }
    }
    JsonNode choices = event.get("choices");
    if (choices != null && choices.isArray()) {
      for (JsonNode choice : choices) {
        JsonNode delta = choice.get("delta");
        if (delta == null) {
          continue;
        }
        JsonNode content = delta.get("content");
        if (content != null && content.isString()) {
          generated.append(content.asString());
          sawOutput = true;
        }
        if (delta.hasNonNull("tool_calls") || delta.hasNonNull("refusal")) {
          generated.append(delta.toString());
          sawOutput = true;
        }
      }
    }
  }
}
