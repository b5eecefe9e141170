package io.tollgate.gateway;

import io.tollgate.gateway.admission.CallerKey;
import io.tollgate.gateway.admission.KeyDirectory;
import io.tollgate.gateway.proxy.ProxyHandler;
import io.tollgate.gateway.routing.Routes;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * OpenAI's endpoints, as uni-api serves them. A POST to the proxied endpoints is answered by {@link
 * ProxyFilter} before it gets here; their mappings stay so that other methods are refused as before
 * (405) and the endpoints are listed with the rest.
 */
@RestController
@ConditionalOnProperty(
    name = "tollgate.gateway.enabled",
    havingValue = "true",
    matchIfMissing = true)
class GatewayController {

  private final ProxyHandler proxy;
  private final KeyDirectory keys;
  private final Routes routes;

  GatewayController(ProxyHandler proxy, KeyDirectory keys, Routes routes) {
    this.proxy = proxy;
    this.keys = keys;
    this.routes = routes;
  }

  @PostMapping("/v1/chat/completions")
  void chatCompletions(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    proxy.handle("/chat/completions", request, response);
  }

  @PostMapping("/v1/embeddings")
  void embeddings(HttpServletRequest request, HttpServletResponse response) throws IOException {
    proxy.handle("/embeddings", request, response);
  }

  /** The models the caller's key may call, among those some provider serves. */
  @GetMapping("/v1/models")
  ResponseEntity<Map<String, Object>> models(HttpServletRequest request) {
    CallerKey key = keys.find(ProxyHandler.callerKey(request)).orElse(null);
    if (key == null) {
      return ResponseEntity.status(403)
          .body(
              Map.of(
                  "error",
                  Map.of(
                      "message",
                      "Invalid or missing API Key",
                      "type",
                      "invalid_request_error",
                      "code",
                      "invalid_api_key")));
    }
    List<Map<String, Object>> data =
        routes.models().stream()
            .filter(key::mayCall)
            .map(
                model ->
                    Map.<String, Object>of(
                        "id", model, "object", "model", "created", 0, "owned_by", "tollgate"))
            .toList();
    return ResponseEntity.ok(Map.of("object", "list", "data", data));
  }
}
