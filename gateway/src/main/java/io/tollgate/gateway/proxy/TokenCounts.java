package io.tollgate.gateway.proxy;

import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;

/** Reads a provider's {@code usage} object as it streams past, without building a tree. */
final class TokenCounts {

  Long prompt;
  Long completion;

  /**
   * Reads the value the parser is on. An object replaces what an earlier {@code usage} gave, as the
   * last of duplicate fields wins in a tree; any other value is skipped and counts as none.
   */
  static TokenCounts read(JsonParser parser) {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return null;
    }
    TokenCounts counts = new TokenCounts();
    String name;
    while ((name = parser.nextName()) != null) {
      parser.nextToken();
      switch (name) {
        case "prompt_tokens" -> counts.prompt = count(parser);
        case "completion_tokens" -> counts.completion = count(parser);
        default -> parser.skipChildren();
      }
    }
    return counts;
  }

  /**
   * A whole number of tokens: an integer, a number with its fraction dropped, or a string holding
   * an integer; null for anything else (null, booleans, objects, text), which counts as absent.
   */
  private static Long count(JsonParser parser) {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NUMBER_INT) {
      return parser.getLongValue();
    }
    if (token == JsonToken.VALUE_NUMBER_FLOAT) {
      return (long) parser.getDoubleValue();
    }
    if (token == JsonToken.VALUE_STRING) {
      try {
        return Long.parseLong(parser.getString().strip());
      } catch (NumberFormatException notAWholeNumber) {
        return null;
      }
    }
    parser.skipChildren();
    return null;
  }
}
