package io.tollgate.gateway.admission;

import io.tollgate.config.ApiKeyEntry;
import io.tollgate.config.BillingMode;
import io.tollgate.config.KeyPreferences;
import io.tollgate.config.RateLimit;
import io.tollgate.contracts.KeyIds;
import java.math.BigDecimal;
import java.util.List;
import java.util.Set;

/**
 * What the gateway knows of a key from api.yaml. The raw key stays in {@link KeyDirectory}'s map;
 * everything downstream sees only the key id.
 *
 * @param allowedModels the models the key may call, or null for all
 * @param configured the balances as the file grants them, used until the ledger has said more
 * @param maxRunning the key's own cap on calls at once ({@code max_running}), or 0 for none
 */
public record CallerKey(
    String keyId,
    Set<String> allowedModels,
    List<RateLimit> rateLimits,
    Balance configured,
    int maxRunning) {

  /** A balance as admission reads it: null amounts are unlimited. */
  public record Balance(BillingMode mode, BigDecimal usdLeft, Long requestsLeft, boolean enabled) {}

  /**
   * The key a call presents: uni-api reads it from {@code Authorization: Bearer} or {@code
   * x-api-key}.
   *
   * @return null when the call presents none
   */
  public static String presented(String authorization, String apiKey) {
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return authorization.substring(7).trim();
    }
    return apiKey == null ? null : apiKey.trim();
  }

  static CallerKey of(ApiKeyEntry entry) {
    KeyPreferences preferences = entry.preferences();
    BigDecimal credits = preferences.credits();
    long count = preferences.countCredits();
    return new CallerKey(
        KeyIds.of(entry.key()),
        entry.models() == null ? null : Set.copyOf(entry.models()),
        preferences.rateLimits(),
        new Balance(
            preferences.billingMode(),
            credits == null || credits.signum() < 0 ? null : credits,
            count < 0 ? null : count,
            preferences.enabled()),
        preferences.maxRunning());
  }

  public boolean mayCall(String model) {
    return allowedModels == null || allowedModels.contains(model);
  }
}
