package io.tollgate.contracts;

import java.time.Instant;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.ext.javatime.deser.InstantDeserializer;

/**
 * Jackson's reader of an {@link Instant} for Tollgate's messages: {@link IsoInstants} for the form
 * Tollgate writes, Jackson's own deserializer (offsets, epoch numbers, its error messages) for
 * anything else.
 */
final class IsoInstantDeserializer extends ValueDeserializer<Instant> {

  private final ValueDeserializer<Instant> fallback = InstantDeserializer.INSTANT;

  @Override
  public Instant deserialize(JsonParser parser, DeserializationContext context) {
    if (parser.currentToken() == JsonToken.VALUE_STRING) {
      Instant parsed = IsoInstants.parse(parser.getString());
      if (parsed != null) {
        return parsed;
      }
    }
    return fallback.deserialize(parser, context);
  }
}
