package io.tollgate.gateway.admission;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.ApiKeyEntry;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The keys of api.yaml by raw key, so a call's key is looked up in one map read. */
public final class KeyDirectory {

  private final Map<String, CallerKey> byRawKey;

  public KeyDirectory(ApiConfig config) {
    Map<String, CallerKey> keys = new HashMap<>();
    for (ApiKeyEntry entry : config.apiKeys()) {
      keys.put(entry.key(), CallerKey.of(entry));
    }
    this.byRawKey = Map.copyOf(keys);
  }

  public Optional<CallerKey> find(String rawKey) {
    return rawKey == null ? Optional.empty() : Optional.ofNullable(byRawKey.get(rawKey));
  }
}
