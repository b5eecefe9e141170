package io.tollgate.gateway.proxy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.ObjectMapper;

/**
 * Reads an OpenAI server-sent event stream as it passes through, without holding it back: it is fed
 * the bytes of each network read, whatever their boundaries, and keeps only the unfinished line
 * between reads. An event split across reads is joined; several events in one read are each seen.
 * It keeps the last {@code usage} object seen and the text generated so far, so that the tokens can
 * be estimated when the stream ends before the usage chunk.
 */
public final class SseUsageScanner {

  private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);

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
    int end = offset + size;
    if (end > offset && bytes[end - 1] == '\r') {
      end--;
    }
    if (end - offset < DATA.length
        || !Arrays.equals(bytes, offset, offset + DATA.length, DATA, 0, DATA.length)) {
      return;
    }
    int start = offset + DATA.length;
    while (start < end && isBlank(bytes[start])) {
      start++;
    }
    while (end > start && isBlank(bytes[end - 1])) {
      end--;
    }
    if (Arrays.equals(bytes, start, end, DONE, 0, DONE.length)) {
      sawDone = true;
      return;
    }
    readEvent(bytes, start, end - start);
  }

  /**
   * One event's JSON, read as it streams: the {@code usage} counts and the text of each choice's
   * {@code delta}, with no tree built. What it finds counts only once the whole event has parsed
   * (an event that is not one JSON value changes nothing); as in a tree, the last of duplicate
   * fields wins.
   */
  private void readEvent(byte[] bytes, int offset, int length) {
    TokenCounts usage = null;
    boolean output = false;
    int generatedBefore = generated.length();
    try (JsonParser parser = json.tokenStreamFactory().createParser(bytes, offset, length)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        parser.skipChildren();
      } else {
        String name;
        while ((name = parser.nextName()) != null) {
          parser.nextToken();
          if (name.equals("usage")) {
            usage = TokenCounts.read(parser);
          } else if (name.equals("choices")) {
            generated.setLength(generatedBefore);
            output = readChoices(parser, bytes, offset);
          } else {
            parser.skipChildren();
          }
        }
      }
      if (parser.nextToken() != null) {
        throw new StreamReadException(parser, "more than one JSON value in an event");
      }
    } catch (JacksonException notJson) {
      generated.setLength(generatedBefore);
      return;
    }
    if (usage != null) {
      if (usage.prompt != null) {
        promptTokens = usage.prompt;
      }
      if (usage.completion != null) {
        completionTokens = usage.completion;
      }
    }
    sawOutput |= output;
  }

  /**
   * @return whether any choice carried output: content, tool calls or a refusal
   */
  private boolean readChoices(JsonParser parser, byte[] bytes, int offset) {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      parser.skipChildren();
      return false;
    }
    boolean output = false;
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (parser.currentToken() != JsonToken.START_OBJECT) {
        parser.skipChildren();
        continue;
      }
      int choiceStart = generated.length();
      boolean choiceOutput = false;
      String name;
      while ((name = parser.nextName()) != null) {
        parser.nextToken();
        if (name.equals("delta")) {
          generated.setLength(choiceStart);
          choiceOutput = readDelta(parser, bytes, offset);
        } else {
          parser.skipChildren();
        }
      }
      output |= choiceOutput;
    }
    return output;
  }

  /**
   * A delta's content goes to the generated text; a delta that calls tools or refuses goes there
   * whole, as the JSON the upstream sent, since its tokens are billed as output too.
   */
  private boolean readDelta(JsonParser parser, byte[] bytes, int offset) {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return false;
    }
    long from = parser.currentTokenLocation().getByteOffset();
    boolean output = false;
    boolean whole = false;
    String name;
    while ((name = parser.nextName()) != null) {
      JsonToken value = parser.nextToken();
      if (name.equals("content") && value == JsonToken.VALUE_STRING) {
        generated.append(
            parser.getStringCharacters(), parser.getStringOffset(), parser.getStringLength());
        output = true;
      } else {
        if ((name.equals("tool_calls") || name.equals("refusal"))
            && value != JsonToken.VALUE_NULL) {
          whole = true;
        }
        parser.skipChildren();
      }
    }
    if (whole) {
      long to = parser.currentLocation().getByteOffset();
      generated.append(
          new String(bytes, offset + (int) from, (int) (to - from), StandardCharsets.UTF_8));
      output = true;
    }
    return output;
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\f' || b == 0x0b;
  }
}
