package io.tollgate.ledger.infrastructure;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.datatype.jsr310.deser.InstantDeserializer;
import io.tollgate.contracts.IsoInstants;
import java.io.IOException;
import java.time.Instant;

/**
 * Reads the timestamps the ledger writes with {@link IsoInstants}, and hands anything else to
 * jackson-datatype-jsr310's own deserializer. Axon serialises with Jackson 2, so this is the
 * Jackson 2 twin of the contracts' deserializer: it shows in a rebuild of the views, the processor
 * and every account load.
 */
final class UtcInstantDeserializer extends JsonDeserializer<Instant> {

  private final JsonDeserializer<Instant> fallback = InstantDeserializer.INSTANT;

  @Override
  public Instant deserialize(JsonParser parser, DeserializationContext context) throws IOException {
    if (parser.currentToken() == JsonToken.VALUE_STRING) {
      Instant parsed = IsoInstants.parse(parser.getText());
      if (parsed != null) {
        return parsed;
      }
    }
    return fallback.deserialize(parser, context);
  }
}
