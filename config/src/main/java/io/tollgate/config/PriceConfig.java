package io.tollgate.config;

import java.math.BigDecimal;
import java.util.Map;

/**
 * The pricing part of {@code preferences}: {@code model_price} and {@code count_billing}. Maps keep
 * file order, but no rule depends on it: prices resolve by the longest matching prefix.
 *
 * @param countBillingEnabled {@code count_billing.enabled}; when false, count prices are ignored
 * @param defaultCountPrice {@code count_billing.default_count_price}, or null
 * @param modelCountPrices {@code count_billing.model_count_prices}, its {@code default} included
 * @param modelPrices {@code model_price}, its {@code default} included
 */
public record PriceConfig(
    boolean countBillingEnabled,
    BigDecimal defaultCountPrice,
    Map<String, BigDecimal> modelCountPrices,
    Map<String, ModelPrice> modelPrices) {

  public static final String DEFAULT_ENTRY = "default";

  public PriceConfig {
    modelCountPrices = Map.copyOf(modelCountPrices);
    modelPrices = Map.copyOf(modelPrices);
  }
}
