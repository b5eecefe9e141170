package io.tollgate.ledger.pricing;

import io.tollgate.config.BillingMode;
import io.tollgate.config.ModelPrice;
import io.tollgate.config.PriceConfig;
import io.tollgate.config.TokenPrice;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Resolves prices by the rules of BEHAVIOUR.md section 3 and quotes the charge of a request.
 *
 * <p>An entry matches a model when it equals the model name or is a prefix of it, and the longest
 * matching entry wins, whatever the file order. {@code default} never matches by prefix: it is only
 * the fallback. Every quote carries the {@link #version() price version}, a digest of the price
 * rules, so a charge can be explained and re-rated later.
 */
public final class PriceBook {

  /** Used when neither an entry nor {@code count_billing} gives a count price. */
  public static final BigDecimal BUILT_IN_COUNT_PRICE = new BigDecimal("0.001");

  private final PriceConfig config;
  private final String version;

  public PriceBook(PriceConfig config) {
    this.config = config;
    this.version = digest(config);
  }

  public boolean countBillingEnabled() {
    return config.countBillingEnabled();
  }

  /** A short digest of the price rules: equal rules, equal version, whatever the file order. */
  public String version() {
    return version;
  }

  public TokenPrice tokenPrice(String model) {
    return longestMatch(config.modelPrices(), model)
        .map(ModelPrice::tokenPrice)
        .or(
            () ->
                Optional.ofNullable(config.modelPrices().get(PriceConfig.DEFAULT_ENTRY))
                    .map(ModelPrice::tokenPrice))
        .orElse(TokenPrice.BUILT_IN_DEFAULT);
  }

  public BigDecimal countPrice(String model) {
    return explicitCountPrice(model)
        .or(() -> longestMatch(config.modelCountPrices(), model))
        .or(() -> Optional.ofNullable(config.modelCountPrices().get(PriceConfig.DEFAULT_ENTRY)))
        .or(() -> Optional.ofNullable(config.defaultCountPrice()))
        .orElse(BUILT_IN_COUNT_PRICE);
  }

  /** Only the matching {@code model_price} entry's own count price: what hybrid keys look for. */
  public Optional<BigDecimal> explicitCountPrice(String model) {
    return longestMatch(config.modelPrices(), model).map(ModelPrice::countPrice);
  }

  /**
   * The charge of one successful request for a key in {@code mode}. With count billing disabled,
   * count and hybrid keys are charged as token keys.
   */
  public Quote quote(BillingMode mode, String model, long promptTokens, long completionTokens) {
    boolean byCount =
        config.countBillingEnabled()
            && switch (mode) {
              case TOKEN -> false;
              case COUNT -> true;
              case HYBRID -> explicitCountPrice(model).isPresent();
            };
    if (byCount) {
      BigDecimal price = countPrice(model);
      return new Quote(CostType.COUNT, price, 1, null, price, version);
    }
    TokenPrice price = tokenPrice(model);
    BigDecimal usd =
        price
            .prompt()
            .multiply(BigDecimal.valueOf(promptTokens))
            .add(price.completion().multiply(BigDecimal.valueOf(completionTokens)))
            .movePointLeft(6);
    return new Quote(CostType.TOKEN, usd, 0, price, null, version);
  }

  /**
   * The value of the longest entry that equals {@code model} or is a prefix of it, {@code default}
   * excluded; empty when none matches.
   */
  private static <V> Optional<V> longestMatch(Map<String, V> entries, String model) {
    String best = null;
    for (String entry : entries.keySet()) {
      if (!entry.equals(PriceConfig.DEFAULT_ENTRY)
          && model.startsWith(entry)
          && (best == null || entry.length() > best.length())) {
        best = entry;
      }
    }
    return best == null ? Optional.empty() : Optional.of(entries.get(best));
  }

  private static String digest(PriceConfig config) {
    StringBuilder canonical = new StringBuilder();
    canonical.append("count_billing.enabled=").append(config.countBillingEnabled()).append('\n');
    canonical.append("default_count_price=").append(plain(config.defaultCountPrice())).append('\n');
    new TreeMap<>(config.modelCountPrices())
        .forEach(
            (model, price) ->
                canonical
                    .append("count:")
                    .append(model)
                    .append('=')
                    .append(plain(price))
                    .append('\n'));
    new TreeMap<>(config.modelPrices())
        .forEach(
            (model, price) ->
                canonical
                    .append("model:")
                    .append(model)
                    .append('=')
                    .append(
                        price.tokenPrice() == null
                            ? ""
                            : plain(price.tokenPrice().prompt())
                                + ","
                                + plain(price.tokenPrice().completion()))
                    .append(';')
                    .append(plain(price.countPrice()))
                    .append('\n'));
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256")
              .digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
      return "pv-" + HexFormat.of().formatHex(hash, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime provides SHA-256", e);
    }
  }

  private static String plain(BigDecimal value) {
    return value == null ? "" : value.stripTrailingZeros().toPlainString();
  }
}
