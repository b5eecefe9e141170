package io.tollgate.contracts;

import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.util.JsonRecyclerPools;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;

/**
 * Writes and reads Tollgate's Kafka messages as CloudEvents 1.0 in structured JSON mode: the
 * envelope's attributes and the message itself under {@code data}, one JSON document per record.
 * Structured mode keeps the whole event in the record value, so a dead-letter copy or a dump of the
 * topic still says what it is without the record's headers.
 */
public final class CloudEventCodec {

  public static final String SPEC_VERSION = "1.0";
  public static final String CONTENT_TYPE = "application/cloudevents+json";

  private static final List<String> REQUIRED_ATTRIBUTES =
      List.of("specversion", "id", "source", "type");

  /**
   * Events are encoded and decoded on a few long-lived platform threads (the gateway's publisher,
   * the ledger's intake consumers), so each keeps its own parser buffers rather than borrowing them
   * from Jackson's default pool, a concurrent deque that allocates a node per return.
   */
  private static final JsonMapper JSON =
      JsonMapper.builder(
              JsonFactory.builder().recyclerPool(JsonRecyclerPools.threadLocalPool()).build())
          .addModule(
              new SimpleModule("tollgate-instants")
                  .addSerializer(Instant.class, new IsoInstantSerializer())
                  .addDeserializer(Instant.class, new IsoInstantDeserializer()))
          .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .build();

  /** Readers of an event's data in the middle of its message, so the rest is not theirs. */
  private static final Map<Class<?>, ObjectReader> DATA_READERS =
      Map.of(
          RequestCompleted.class,
          dataReader(RequestCompleted.class),
          KeyBalance.class,
          dataReader(KeyBalance.class));

  private static ObjectReader dataReader(Class<?> type) {
    return JSON.readerFor(type).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  /** A RequestCompleted's event is about 600 bytes; one buffer of this size holds it. */
  private static final int ENVELOPE_BYTES = 768;

  private CloudEventCodec() {}

  /** A message that is not a Tollgate CloudEvent of the expected type; the reason says why. */
  public static final class MalformedEventException extends RuntimeException {
    public MalformedEventException(String reason) {
      super(reason);
    }
  }

  /** The event id is the request id, so a redelivered event has the id of its first delivery. */
  public static byte[] encode(RequestCompleted request, String source) {
    return envelope(
        request.requestId(),
        source,
        RequestCompleted.TYPE,
        request.keyId(),
        IsoInstants.format(request.completedAt()),
        request);
  }

  public static byte[] encode(KeyBalance balance, String source) {
    return envelope(
        balance.keyId() + "-" + balance.version(),
        source,
        KeyBalance.TYPE,
        balance.keyId(),
        IsoInstants.format(balance.at()),
        balance);
  }

  /**
   * Reads a {@link RequestCompleted}. Throws {@link MalformedEventException} for anything that is
   * not one, naming the problem; {@link RequestCompleted#violations()} is the caller's next check.
   */
  public static RequestCompleted decodeRequestCompleted(byte[] message) {
    return decode(message, RequestCompleted.TYPE, RequestCompleted.class);
  }

  public static KeyBalance decodeKeyBalance(byte[] message) {
    return decode(message, KeyBalance.TYPE, KeyBalance.class);
  }

  /**
   * Writes the envelope and its data in one streaming pass. The bytes are those of building the
   * event as a tree and serialising it (the test holds them equal), without the two intermediate
   * trees, which were most of the cost of publishing a call's event in the gateway.
   */
  private static byte[] envelope(
      String id, String source, String type, String subject, String time, Object data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(ENVELOPE_BYTES);
    try (JsonGenerator event = JSON.createGenerator(out)) {
      event.writeStartObject();
      event.writeStringProperty("specversion", SPEC_VERSION);
      event.writeStringProperty("id", id);
      event.writeStringProperty("source", source);
      event.writeStringProperty("type", type);
      event.writeStringProperty("subject", subject);
      event.writeStringProperty("time", time);
      event.writeStringProperty("datacontenttype", "application/json");
      event.writeName("data");
      event.writePOJO(data);
      event.writeEndObject();
    }
    return out.toByteArray();
  }

  /**
   * One streaming pass over the message: the attributes are read as they come, and the data is read
   * straight into its record when the attributes before it already say it is the expected event (as
   * {@link #envelope} writes them). Data that comes before them is held as a tree until they are
   * known. Building the whole event as a tree and converting its data afterwards cost twice as
   * much.
   */
  private static <T> T decode(byte[] message, String expectedType, Class<T> dataType) {
    if (message == null || message.length == 0) {
      throw new MalformedEventException("the message is empty");
    }
    Map<String, String> attributes = new HashMap<>(8);
    T data = null;
    JsonNode heldData = null;
    boolean sawData = false;
    try (JsonParser parser = JSON.createParser(message)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        parser.skipChildren();
        requireEnd(parser);
        throw new MalformedEventException("the message is not a JSON object");
      }
      while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
        String name = parser.currentName();
        JsonToken value = parser.nextToken();
        if (name.equals("data")) {
          sawData = value == JsonToken.START_OBJECT;
          data = null;
          heldData = null;
          if (!sawData) {
            parser.skipChildren();
          } else if (check(attributes, expectedType) == null) {
            data = readData(parser, dataType);
          } else {
            heldData = parser.readValueAsTree();
          }
        } else if (!REQUIRED_ATTRIBUTES.contains(name)) {
          parser.skipChildren(); // subject, time and the like: not needed, not made into strings
        } else if (value.isScalarValue()) {
          attributes.put(name, value == JsonToken.VALUE_NULL ? null : parser.getValueAsString());
        } else {
          parser.skipChildren();
          attributes.put(name, null);
        }
      }
      requireEnd(parser);
    } catch (StreamReadException notJson) {
      throw new MalformedEventException("the message is not JSON: " + notJson.getOriginalMessage());
    }
    String problem = check(attributes, expectedType);
    if (problem != null) {
      throw new MalformedEventException(problem);
    }
    if (!sawData) {
      throw new MalformedEventException("data is missing or not a JSON object");
    }
    if (data != null) {
      return data;
    }
    try {
      return JSON.treeToValue(heldData, dataType);
    } catch (JacksonException e) {
      throw doesNotFit(dataType, e);
    }
  }

  private static <T> T readData(JsonParser parser, Class<T> dataType) {
    try {
      return DATA_READERS.get(dataType).readValue(parser);
    } catch (StreamReadException notJson) {
      throw notJson;
    } catch (JacksonException e) {
      throw doesNotFit(dataType, e);
    }
  }

  /** Names the member that does not fit, where Jackson knows it. */
  private static MalformedEventException doesNotFit(Class<?> dataType, JacksonException e) {
    StringBuilder member = new StringBuilder();
    for (JacksonException.Reference step : e.getPath()) {
      if (step.getPropertyName() != null) {
        member.append(member.isEmpty() ? "" : ".").append(step.getPropertyName());
      } else if (step.getIndex() >= 0) {
        member.append('[').append(step.getIndex()).append(']');
      }
    }
    return new MalformedEventException(
        "data does not fit "
            + dataType.getSimpleName()
            + (member.isEmpty() ? "" : " at " + member)
            + ": "
            + e.getOriginalMessage());
  }

  /** A second JSON value after the event, or anything but whitespace, is not one event. */
  private static void requireEnd(JsonParser parser) {
    if (parser.nextToken() != null) {
      throw new StreamReadException(parser, "more than one JSON value");
    }
  }

  /**
   * What is wrong with the attributes read so far, in the order a reader would check them, or null
   * when they are those of the expected event.
   */
  private static String check(Map<String, String> attributes, String expectedType) {
    String missing = missingAttribute(attributes);
    if (missing != null) {
      return missing;
    }
    String version = attributes.get("specversion");
    if (!SPEC_VERSION.equals(version)) {
      return "specversion is " + version + ", not " + SPEC_VERSION;
    }
    String type = attributes.get("type");
    if (!expectedType.equals(type)) {
      return "type is " + type + ", not " + expectedType;
    }
    return null;
  }

  private static String missingAttribute(Map<String, String> attributes) {
    for (String attribute : REQUIRED_ATTRIBUTES) {
      String value = attributes.get(attribute);
      if (value == null || value.isBlank()) {
        return "the CloudEvent attribute " + attribute + " is missing";
      }
    }
    return null;
  }
}
