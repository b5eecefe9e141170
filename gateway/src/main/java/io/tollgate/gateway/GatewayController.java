package io.tollgate.gateway;

import io.tollgate.gateway.admission.CallerKey;
import io.tollgate.gateway.admission.KeyDirectory;
import io.tollgate.gateway.routing.Routes;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The OpenAI endpoint the gateway answers itself rather than proxies. The proxied POSTs never reach
 * Spring MVC: the edge's event loops serve them (see {@code edge.EdgeServer}).
 */
@RestController
@ConditionalOnProperty(
    name = "tollgate.gateway.enabled",
    havingValue = "true",
    matchIfMissing = true)
class GatewayController {

  private final KeyDirectory keys;
  private final Routes routes;

  GatewayController(KeyDirectory keys, Routes routes) {
    this.keys = keys;
    this.routes = routes;
  }

  /** The models the caller's key may call, among those some provider serves. */
  @GetMapping("/v1/models")
  ResponseEntity<Map<String, Object>> models(HttpServletRequest request) {
    CallerKey key =
        keys.find(
                CallerKey.presented(
                    request.getHeader("Authorization"), request.getHeader("x-api-key")))
            .orElse(null);
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
