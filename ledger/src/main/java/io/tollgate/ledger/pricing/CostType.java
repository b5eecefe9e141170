package io.tollgate.ledger.pricing;

import java.util.Locale;

/** Which rule priced a charge: per token, or per request. */
public enum CostType {
  TOKEN,
  COUNT;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
