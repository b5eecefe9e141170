package io.tollgate.gateway.proxy;

import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The tokens an answer used: the upstream's own count when it gave one, else an estimate by {@link
 * TokenEstimator}, marked as such.
 */
public final class AnswerUsage {

  private final ObjectMapper json;
  private final TokenEstimator tokens;

  public AnswerUsage(ObjectMapper json, TokenEstimator tokens) {
    this.json = json;
    this.tokens = tokens;
  }

  /**
   * Of a whole JSON answer, found with a streaming pass that reads the {@code usage} counts and
   * builds no tree; the tree is parsed only when the tokens must be estimated.
   */
  public Usage ofWhole(byte[] answer, CallBody request) {
    TokenCounts usage;
    try {
      usage = topLevelUsage(answer);
    } catch (JacksonException notJson) {
      return new Usage(tokens.promptTokens(request.tree()), 0, true);
    }
    if (usage != null && usage.prompt != null) {
      return new Usage(usage.prompt, usage.completion == null ? 0 : usage.completion, false);
    }
    StringBuilder text = new StringBuilder();
    for (JsonNode choice : json.readTree(answer).path("choices")) {
      JsonNode content = choice.path("message").path("content");
      if (content.isString()) {
        text.append(content.asString());
      }
    }
    return new Usage(tokens.promptTokens(request.tree()), tokens.count(text.toString()), true);
  }

  /**
   * Of a relayed stream, however it ended.
   *
   * @return null when the stream produced nothing the caller should pay for
   */
  public Usage ofStream(SseUsageScanner scanner, CallBody request) {
    if (scanner.hasUsage()) {
      return new Usage(scanner.promptTokens(), scanner.completionTokens(), false);
    }
    if (!scanner.sawOutput()) {
      return null;
    }
    return new Usage(
        tokens.promptTokens(request.tree()), tokens.count(scanner.generatedText()), true);
  }

  /**
   * The counts of the last top-level {@code usage} field; null when there is none, it is not an
   * object, or the JSON is not an object.
   *
   * @throws JacksonException when the bytes are not one JSON value
   */
  private TokenCounts topLevelUsage(byte[] document) {
    TokenCounts found = null;
    try (JsonParser parser = json.tokenStreamFactory().createParser(document)) {
      JsonToken root = parser.nextToken();
      if (root == JsonToken.START_OBJECT) {
        String name;
        while ((name = parser.nextName()) != null) {
          parser.nextToken();
          if (name.equals("usage")) {
            found = TokenCounts.read(parser);
          } else {
            parser.skipChildren();
          }
        }
      } else if (root != null) {
        parser.skipChildren();
      }
      if (parser.nextToken() != null) {
        throw new StreamReadException(parser, "more than one JSON value");
      }
    }
    return found;
  }
}
