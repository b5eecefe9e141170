package io.tollgate.gateway.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.io.JsonStringEncoder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The caller's JSON body, read with one streaming pass for the two fields the gateway acts on. No
 * tree is built on the way: the upstream's copy is written token by token from the caller's bytes,
 * and the tree is parsed only when tokens must be estimated. Per call this replaced a tree parse, a
 * deep copy and a tree serialisation, the largest part of the gateway's own CPU per call.
 *
 * <p>Fields are read as a tree would read them: the last of duplicate names wins, {@code model}
 * counts only as a string, {@code stream} with Jackson's {@code asBoolean} rules, and anything
 * after the object is an error.
 */
public final class CallBody {

  private static final String STREAM_OPTIONS = "stream_options";

  private static final String INCLUDE_USAGE_JSON = "{\"include_usage\":true}";
  private static final byte[] INCLUDE_USAGE = INCLUDE_USAGE_JSON.getBytes(UTF_8);
  private static final byte[] OPTIONS_FIRST =
      ("\"" + STREAM_OPTIONS + "\":" + INCLUDE_USAGE_JSON).getBytes(UTF_8);
  private static final byte[] OPTIONS_AFTER =
      (",\"" + STREAM_OPTIONS + "\":" + INCLUDE_USAGE_JSON).getBytes(UTF_8);
  private static final byte[] TRUE = "true".getBytes(UTF_8);
  private static final byte[] FALSE = "false".getBytes(UTF_8);

  private final ObjectMapper json;
  private final byte[] raw;
  private final String model;
  private final boolean stream;

  /** Where to splice the upstream's copy; null when it must be written token by token. */
  private final Spans spans;

  private JsonNode tree;

  private CallBody(ObjectMapper json, byte[] raw, String model, boolean stream, Spans spans) {
    this.json = json;
    this.raw = raw;
    this.model = model;
    this.stream = stream;
    this.spans = spans;
  }

  /**
   * @return the body, or null when it is not one JSON object
   */
  public static CallBody parse(ObjectMapper json, byte[] raw) {
    String model = null;
    boolean stream = false;
    Spans spans = startsAsUtf8Object(raw) ? new Spans() : null;
    try (JsonParser parser = json.createParser(raw)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
        long valueStart = parser.currentTokenLocation().getByteOffset();
        if (name.equals("model")) {
          model = value == JsonToken.VALUE_STRING ? parser.getString() : null;
          parser.skipChildren();
        } else if (name.equals("stream")) {
          stream =
              switch (value) {
                case VALUE_TRUE -> true;
                case VALUE_FALSE -> false;
                default -> parser.<JsonNode>readValueAsTree().asBoolean(false);
              };
        } else {
          parser.skipChildren();
        }
        if (spans != null) {
          spans = spans.saw(name, valueStart, parser);
        }
      }
      long end = parser.currentTokenLocation().getByteOffset();
      if (parser.nextToken() != null) {
        return null;
      }
      if (spans != null) {
        spans.objectEnd = end;
      }
    } catch (JacksonException notJson) {
      return null;
    }
    return new CallBody(json, raw, model, stream, spans);
  }

  /**
   * Whether byte offsets are indices into {@code raw}: UTF-8 (as RFC 8259 asks of JSON on the wire)
   * without a byte order mark, which is what a body that opens with ASCII whitespace or a brace is.
   */
  private static boolean startsAsUtf8Object(byte[] raw) {
    for (byte b : raw) {
      if (b == '{') {
        return true;
      }
      if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        return false;
      }
    }
    return false;
  }

  /**
   * Where the values of the three fields the upstream's copy changes lie in the caller's bytes,
   * {@code [start, end)}, or -1 where the caller did not send the field.
   */
  private static final class Spans {
    long modelStart = -1;
    long modelEnd;
    long streamStart = -1;
    long streamEnd;
    long optionsStart = -1;
    long optionsEnd;
    long objectEnd;
    int properties;

    /**
     * Notes the value just read. Returns null when a changed field repeats: the copy by tokens then
     * writes it once, where the caller first named it.
     */
    Spans saw(String name, long start, JsonParser parser) {
      properties++;
      switch (name) {
        case "model" -> {
          if (modelStart >= 0) {
            return null;
          }
          modelStart = start;
          modelEnd = valueEnd(parser);
        }
        case "stream" -> {
          if (streamStart >= 0) {
            return null;
          }
          streamStart = start;
          streamEnd = valueEnd(parser);
        }
        case STREAM_OPTIONS -> {
          if (optionsStart >= 0) {
            return null;
          }
          optionsStart = start;
          optionsEnd = valueEnd(parser);
        }
        default -> {
          // Copied as it is.
        }
      }
      return this;
    }

    /** The offset just past the value the parser stands on, a string read to its closing quote. */
    private static long valueEnd(JsonParser parser) {
      parser.finishToken();
      return parser.currentLocation().getByteOffset();
    }
  }

  /** The model the caller named, or null if it named none as a string. */
  public String model() {
    return model;
  }

  public boolean stream() {
    return stream;
  }

  /** The whole body as a tree, for the rare paths that need more than two fields. */
  public JsonNode tree() {
    if (tree == null) {
      tree = json.readTree(raw);
    }
    return tree;
  }

  /**
   * The upstream's copy: every field as the caller sent it, but {@code model} renamed, {@code
   * stream} as the boolean the gateway read and, when {@code askUsage}, {@code stream_options}
   * replaced by {@code {"include_usage": true}} (in place, or last if the caller sent none). Each
   * of the three is written once, where the caller first named it: with duplicate names an upstream
   * that took the first where the gateway took the last would answer a stream to a call the gateway
   * reads as JSON, or the other way round.
   */
  public byte[] forUpstream(String upstreamModel, boolean askUsage) {
    return spans != null
        ? spliced(upstreamModel, askUsage)
        : copiedByTokens(upstreamModel, askUsage);
  }

  /**
   * The caller's bytes with the three values replaced where they lie, and {@code stream_options}
   * added before the closing brace when asked for and absent: no second parse and no generator, and
   * every other byte the caller sent reaches the upstream as it was.
   */
  private byte[] spliced(String upstreamModel, boolean askUsage) {
    byte[] quotedModel = JsonStringEncoder.getInstance().quoteAsUTF8(upstreamModel);
    byte[] model = new byte[quotedModel.length + 2];
    model[0] = '"';
    System.arraycopy(quotedModel, 0, model, 1, quotedModel.length);
    model[model.length - 1] = '"';
    // Each changed value: where it starts and ends in the caller's bytes, and what replaces it.
    long[] starts = {spans.modelStart, spans.streamStart, askUsage ? spans.optionsStart : -1};
    long[] ends = {spans.modelEnd, spans.streamEnd, spans.optionsEnd};
    byte[][] with = {model, stream ? TRUE : FALSE, INCLUDE_USAGE};
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length + model.length + 48);
    int read = 0;
    for (int field = firstAfter(starts, -1);
        field >= 0;
        field = firstAfter(starts, starts[field])) {
      out.write(raw, read, (int) starts[field] - read);
      out.writeBytes(with[field]);
      read = (int) ends[field];
    }
    out.write(raw, read, (int) spans.objectEnd - read);
    if (askUsage && spans.optionsStart < 0) {
      out.writeBytes(spans.properties == 0 ? OPTIONS_FIRST : OPTIONS_AFTER);
    }
    out.write(raw, (int) spans.objectEnd, raw.length - (int) spans.objectEnd);
    return out.toByteArray();
  }

  /** Index of the smallest offset in {@code at} above {@code after}, or -1 when none is. */
  private static int firstAfter(long[] at, long after) {
    int first = -1;
    for (int i = 0; i < at.length; i++) {
      if (at[i] > after && (first < 0 || at[i] < at[first])) {
        first = i;
      }
    }
    return first;
  }

  /** The upstream's copy written token by token: for bodies whose changed fields repeat. */
  private byte[] copiedByTokens(String upstreamModel, boolean askUsage) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length + 48);
    try (JsonParser in = json.createParser(raw);
        JsonGenerator copy = json.createGenerator(out)) {
      in.nextToken();
      copy.writeStartObject();
      boolean askedUsage = false;
      boolean wroteModel = false;
      boolean wroteStream = false;
      while (in.nextToken() == JsonToken.PROPERTY_NAME) {
        String name = in.currentName();
        in.nextToken();
        if (name.equals("model")) {
          if (!wroteModel) {
            copy.writeStringProperty("model", upstreamModel);
            wroteModel = true;
          }
          in.skipChildren();
        } else if (name.equals("stream")) {
          if (!wroteStream) {
            copy.writeBooleanProperty("stream", stream);
            wroteStream = true;
          }
          in.skipChildren();
        } else if (askUsage && name.equals(STREAM_OPTIONS)) {
          if (!askedUsage) {
            writeIncludeUsage(copy);
            askedUsage = true;
          }
          in.skipChildren();
        } else {
          copy.writeName(name);
          copy.copyCurrentStructure(in);
        }
      }
      if (askUsage && !askedUsage) {
        writeIncludeUsage(copy);
      }
      copy.writeEndObject();
    }
    return out.toByteArray();
  }

  private static void writeIncludeUsage(JsonGenerator copy) {
    copy.writeObjectPropertyStart(STREAM_OPTIONS);
    copy.writeBooleanProperty("include_usage", true);
    copy.writeEndObject();
  }
}
