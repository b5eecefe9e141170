package io.tollgate.admin;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import io.tollgate.admin.ApiKeys.Caller;
import io.tollgate.config.ApiConfig;
import io.tollgate.config.Provider;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /v1/models}: the models a key may call, in OpenAI's list shape. Switched off with
 * {@code tollgate.admin.models-endpoint=false} where the gateway serves this path itself.
 */
@RestController
@ConditionalOnProperty(
    name = {"tollgate.admin.enabled", "tollgate.admin.models-endpoint"},
    havingValue = "true",
    matchIfMissing = true)
@Tag(name = "uni-api admin")
class ModelsController {

  private final ApiKeys keys;
  private final ApiConfig config;

  ModelsController(ApiKeys keys, ApiConfig config) {
    this.keys = keys;
    this.config = config;
  }

  @Operation(summary = "The models the calling key may use (any valid key)")
  @GetMapping("/v1/models")
  Map<String, Object> models(HttpServletRequest request) {
    Caller caller = keys.caller(request);
    Map<String, String> owners = new LinkedHashMap<>();
    for (Provider provider : config.providers()) {
      provider.models().keySet().forEach(model -> owners.putIfAbsent(model, provider.name()));
    }
    List<String> allowed = caller.entry().models();
    List<Map<String, Object>> data = new ArrayList<>();
    for (String model : allowed == null ? List.copyOf(owners.keySet()) : allowed) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("id", model);
      entry.put("object", "model");
      entry.put("created", 0);
      entry.put("owned_by", owners.getOrDefault(model, "tollgate"));
      data.add(entry);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("object", "list");
    body.put("data", data);
    return body;
  }
}
