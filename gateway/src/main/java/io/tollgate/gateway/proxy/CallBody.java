package io.tollgate.gateway.proxy;

import java.io.ByteArrayOutputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
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

  private final ObjectMapper json;
  private final byte[] raw;
  private final String model;
  private final boolean stream;
  private JsonNode tree;

  private CallBody(ObjectMapper json, byte[] raw, String model, boolean stream) {
    this.json = json;
    this.raw = raw;
    this.model = model;
    this.stream = stream;
  }

  /**
   * @return the body, or null when it is not one JSON object
   */
  public static CallBody parse(ObjectMapper json, byte[] raw) {
    String model = null;
    boolean stream = false;
    try (JsonParser parser = json.createParser(raw)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
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
      }
      if (parser.nextToken() != null) {
        return null;
      }
    } catch (JacksonException notJson) {
      return null;
    }
    return new CallBody(json, raw, model, stream);
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
