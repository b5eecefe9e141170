package io.tollgate.gateway.proxy;

import java.time.Duration;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

/** Errors in OpenAI's shape: {@code {"error": {"message", "type", "code"}}}. */
public final class OpenAiErrors {

  private OpenAiErrors() {}

  public static byte[] body(ObjectMapper json, String message, String type, String code) {
    ObjectNode body = json.createObjectNode();
    ObjectNode error = body.putObject("error");
    error.put("message", message);
    error.put("type", type);
    error.put("code", code);
    return json.writeValueAsBytes(body);
  }

  /** Whole seconds, rounded up and at least one, as {@code Retry-After} wants them. */
  public static String retryAfterSeconds(Duration retryAfter) {
    return Long.toString(Math.max(1, (retryAfter.toMillis() + 999) / 1000));
  }
}
