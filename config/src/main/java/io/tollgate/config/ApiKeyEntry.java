package io.tollgate.config;

import java.util.List;
import java.util.Locale;

/**
 * One entry of {@code api_keys}.
 *
 * @param key the raw key, a secret: only the admin API shows it
 * @param role the role, or empty; a role containing "admin" may call the admin API
 * @param models the models this key may call, as written; null when the entry lists none (all)
 * @param preferences billing preferences
 */
public record ApiKeyEntry(
    String key, String role, List<String> models, KeyPreferences preferences) {

  public ApiKeyEntry {
    models = models == null ? null : List.copyOf(models);
  }

  public boolean isAdmin() {
    return role != null && role.toLowerCase(Locale.ROOT).contains("admin");
  }
}
