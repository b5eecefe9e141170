package io.tollgate.contracts;

import java.time.Instant;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.ser.std.StdSerializer;

/**
 * Writes an {@link Instant} of Tollgate's messages as {@link Instant#toString()} does, with {@link
 * IsoInstants} instead of a {@code DateTimeFormatter}.
 */
final class IsoInstantSerializer extends StdSerializer<Instant> {

  IsoInstantSerializer() {
    super(Instant.class);
  }

  @Override
  public void serialize(Instant value, JsonGenerator generator, SerializationContext context) {
    generator.writeString(IsoInstants.format(value));
  }
}
