package io.tollgate.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The whole {@code api.yaml}, validated. Built only by {@link ApiConfigParser}, so every instance
 * holds values that passed validation.
 *
 * @param source where it was read from, for messages
 * @param modelTimeouts {@code preferences.model_timeout}: model prefix to timeout, "default"
 *     included
 */
public record ApiConfig(
    Path source,
    List<Provider> providers,
    List<ApiKeyEntry> apiKeys,
    PriceConfig prices,
    Map<String, Duration> modelTimeouts) {

  public ApiConfig {
    providers = List.copyOf(providers);
    apiKeys = List.copyOf(apiKeys);
    modelTimeouts = Map.copyOf(modelTimeouts);
  }

  public Optional<ApiKeyEntry> findKey(String rawKey) {
    return apiKeys.stream().filter(entry -> entry.key().equals(rawKey)).findFirst();
  }
}
