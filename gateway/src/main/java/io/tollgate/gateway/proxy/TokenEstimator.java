package io.tollgate.gateway.proxy;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import tools.jackson.databind.JsonNode;

/**
 * Counts tokens when the upstream never said how many it used, with OpenAI's o200k tokenizer for
 * every model: for other vendors' models it is an estimate, which is why the event says so.
 */
public final class TokenEstimator {

  /** Per message framing tokens OpenAI documents for chat models. */
  private static final int TOKENS_PER_MESSAGE = 3;

  private final Encoding encoding =
      Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);

  public long count(String text) {
    return text == null || text.isEmpty() ? 0 : encoding.countTokens(text);
  }

  /** The prompt of a chat request: each message's text plus its framing. */
  public long promptTokens(JsonNode request) {
    JsonNode messages = request.get("messages");
    if (messages == null || !messages.isArray()) {
      JsonNode input = request.get("input");
      return input == null ? 0 : count(input.isString() ? input.asString() : input.toString());
    }
    long tokens = TOKENS_PER_MESSAGE;
    for (JsonNode message : messages) {
      tokens += TOKENS_PER_MESSAGE;
      JsonNode content = message.get("content");
      if (content != null) {
        tokens += count(content.isString() ? content.asString() : content.toString());
      }
    }
    return tokens;
  }
}
