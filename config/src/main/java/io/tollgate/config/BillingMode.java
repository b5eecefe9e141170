package io.tollgate.config;

import java.util.Locale;
import java.util.Optional;

/** How a key's successful requests are charged (BEHAVIOUR.md section 4). */
public enum BillingMode {
  TOKEN,
  COUNT,
  HYBRID;

  /** The word used in api.yaml and the admin API. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses the config and admin-API spelling; empty for anything but token, count or hybrid. */
  public static Optional<BillingMode> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    for (BillingMode mode : values()) {
      if (mode.wireName().equals(text.trim().toLowerCase(Locale.ROOT))) {
        return Optional.of(mode);
      }
    }
    return Optional.empty();
  }
}
