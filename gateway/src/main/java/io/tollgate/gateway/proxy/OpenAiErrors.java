package io.tollgate.gateway.proxy;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

/** Writes errors in OpenAI's shape: {@code {"error": {"message", "type", "code"}}}. */
final class OpenAiErrors {

  private OpenAiErrors() {}

  static void write(
      ObjectMapper json,
      HttpServletResponse response,
      int status,
      String message,
      String type,
      String code,
      Duration retryAfter)
      throws IOException {
    ObjectNode body = json.createObjectNode();
    ObjectNode error = body.putObject("error");
    error.put("message", message);
    error.put("type", type);
    error.put("code", code);
    response.setStatus(status);
    response.setContentType("application/json");
    if (retryAfter != null) {
      long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
      response.setHeader("Retry-After", Long.toString(seconds));
    }
    response.getOutputStream().write(json.writeValueAsBytes(body));
  }
}
