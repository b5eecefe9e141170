package io.tollgate.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One upstream provider.
 *
 * @param name {@code provider}
 * @param baseUrl {@code base_url}, the full URL of its chat completions endpoint (uni-api style)
 * @param apiKeys the provider's own keys, used in turn; may be empty for an upstream without auth
 * @param models public model name to upstream model name, in file order
 * @param timeout how long to wait for this provider, or null for the global default
 */
public record Provider(
    String name,
    String baseUrl,
    List<String> apiKeys,
    Map<String, String> models,
    Duration timeout) {

  public Provider {
    apiKeys = List.copyOf(apiKeys);
  }
}
