package io.tollgate.contracts;

import java.io.ByteArrayOutputStream;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes and reads Tollgate's Kafka messages as CloudEvents 1.0 in structured JSON mode: the
 * envelope's attributes and the message itself under {@code data}, one JSON document per record.
 * Structured mode keeps the whole event in the record value, so a dead-letter copy or a dump of the
 * topic still says what it is without the record's headers.
 */
public final class CloudEventCodec {

  public static final String SPEC_VERSION = "1.0";
  public static final String CONTENT_TYPE = "application/cloudevents+json";

  private static final JsonMapper JSON =
      JsonMapper.builder()
          .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .build();

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
        request.completedAt().toString(),
        request);
  }

  public static byte[] encode(KeyBalance balance, String source) {
    return envelope(
        balance.keyId() + "-" + balance.version(),
        source,
        KeyBalance.TYPE,
        balance.keyId(),
        balance.at().toString(),
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

  private static <T> T decode(byte[] message, String expectedType, Class<T> dataType) {
    if (message == null || message.length == 0) {
      throw new MalformedEventException("the message is empty");
    }
    JsonNode event;
    try {
      event = JSON.readTree(message);
    } catch (JacksonException e) {
      throw new MalformedEventException("the message is not JSON: " + e.getOriginalMessage());
    }
    if (event == null || !event.isObject()) {
      throw new MalformedEventException("the message is not a JSON object");
    }
    for (String attribute : List.of("specversion", "id", "source", "type")) {
      if (!event.hasNonNull(attribute) || event.get(attribute).asString().isBlank()) {
        throw new MalformedEventException("the CloudEvent attribute " + attribute + " is missing");
      }
    }
    if (!SPEC_VERSION.equals(event.get("specversion").asString())) {
      throw new MalformedEventException(
          "specversion is " + event.get("specversion").asString() + ", not " + SPEC_VERSION);
    }
    if (!expectedType.equals(event.get("type").asString())) {
      throw new MalformedEventException(
          "type is " + event.get("type").asString() + ", not " + expectedType);
    }
    JsonNode data = event.get("data");
    if (data == null || !data.isObject()) {
      throw new MalformedEventException("data is missing or not a JSON object");
    }
    try {
      return JSON.treeToValue(data, dataType);
    } catch (JacksonException e) {
      throw new MalformedEventException(
          "data does not fit " + dataType.getSimpleName() + ": " + e.getOriginalMessage());
    }
  }
}
