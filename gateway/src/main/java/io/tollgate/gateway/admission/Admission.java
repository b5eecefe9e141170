package io.tollgate.gateway.admission;

import io.tollgate.config.BillingMode;
import io.tollgate.config.PriceConfig;
import io.tollgate.contracts.KeyBalance;
import io.tollgate.gateway.routing.ModelPrefixes;
import java.time.Duration;

/**
 * Decides, before any upstream is called, whether a call may go ahead (BEHAVIOUR.md section 5). The
 * checks run cheapest first and a refused call spends nothing: no rate-limit slot, no reservation
 * against the balance.
 */
public final class Admission {

  public static final String INSUFFICIENT = "Balance is insufficient, please check your account.";

  /** A running call can end any moment; the caller is told to try again in a second. */
  private static final Duration TOO_MANY_RUNNING_RETRY = Duration.ofSeconds(1);

  private final KeyDirectory keys;
  private final BalanceView balances;
  private final RateLimiter rateLimiter;
  private final PriceConfig prices;
  private final int maxRunningPerLimitedKey;

  /**
   * @param maxRunningPerLimitedKey how many calls a key with a USD limit may run at once, 0 for no
   *     cap: a call's cost is known only when it ends, so this bounds how far such a key can spend
   *     past its balance (docs/gateway.md)
   */
  public Admission(
      KeyDirectory keys,
      BalanceView balances,
      RateLimiter rateLimiter,
      PriceConfig prices,
      int maxRunningPerLimitedKey) {
    if (maxRunningPerLimitedKey < 0) {
      throw new IllegalArgumentException(
          "tollgate.gateway.max-running-per-limited-key is "
              + maxRunningPerLimitedKey
              + "; it must be 0 (no cap) or more");
    }
    this.keys = keys;
    this.balances = balances;
    this.rateLimiter = rateLimiter;
    this.prices = prices;
    this.maxRunningPerLimitedKey = maxRunningPerLimitedKey;
  }

  /** The outcome of admission. */
  public sealed interface Decision {}

  /** Admitted; {@link BalanceView#finished} must be called with the key id when the call ends. */
  public record Admitted(CallerKey key) implements Decision {}

  /**
   * Refused, with OpenAI's error fields; {@code retryAfter} is set for a rate limit and for too
   * many running calls only.
   */
  public record Refused(int status, String message, String type, String code, Duration retryAfter)
      implements Decision {}

  public Decision admit(String rawKey, String model) {
    CallerKey key = keys.find(rawKey).orElse(null);
    if (key == null) {
      return new Refused(
          403, "Invalid or missing API Key", "invalid_request_error", "invalid_api_key", null);
    }
    if (model == null || model.isBlank()) {
      return new Refused(
          400, "The request names no model.", "invalid_request_error", "model_not_found", null);
    }
    if (!key.mayCall(model)) {
      return new Refused(
          403,
          "This API key may not use the model " + model + ".",
          "invalid_request_error",
          "model_not_allowed",
          null);
    }
    CallerKey.Balance balance = current(key);
    boolean spendsRequests = spendsRequests(balance.mode(), model);
    if (!balance.enabled()
        || (balance.usdLeft() != null && balance.usdLeft().signum() <= 0)
        || (spendsRequests && balance.requestsLeft() != null && balance.requestsLeft() <= 0)) {
      return insufficient();
    }
    int maxRunning = maxRunning(key, balance);
    BalanceView.Reservation reservation =
        balances.tryReserve(
            key.keyId(), spendsRequests ? balance.requestsLeft() : null, maxRunning);
    if (reservation == BalanceView.Reservation.NO_REQUESTS_LEFT) {
      return insufficient();
    }
    if (reservation == BalanceView.Reservation.TOO_MANY_RUNNING) {
      return new Refused(
          429,
          "This API key already has "
              + maxRunning
              + (maxRunning == 1 ? " call" : " calls")
              + " running, the most it may run at once.",
          "rate_limit_error",
          "too_many_running_calls",
          TOO_MANY_RUNNING_RETRY);
    }
    Duration wait = rateLimiter.tryAcquire(key.keyId(), key.rateLimits());
    if (!wait.isZero()) {
      balances.cancel(key.keyId());
      return new Refused(
          429,
          "Rate limit exceeded for this API key.",
          "rate_limit_error",
          "rate_limit_exceeded",
          wait);
    }
    return new Admitted(key);
  }

  /**
   * The key's own {@code max_running} if the file gives one; otherwise the gateway's cap for keys
   * with a USD limit, whose overspend it bounds; otherwise none (0).
   */
  private int maxRunning(CallerKey key, CallerKey.Balance balance) {
    if (key.maxRunning() > 0) {
      return key.maxRunning();
    }
    return balance.usdLeft() != null ? maxRunningPerLimitedKey : 0;
  }

  private static Refused insufficient() {
    return new Refused(429, INSUFFICIENT, "insufficient_quota", "insufficient_quota", null);
  }

  private CallerKey.Balance current(CallerKey key) {
    KeyBalance published = balances.latest(key.keyId()).orElse(null);
    if (published == null) {
      return key.configured();
    }
    return new CallerKey.Balance(
        BillingMode.parse(published.billingMode()).orElse(key.configured().mode()),
        published.usdLeft(),
        published.requestsLeft(),
        published.enabled());
  }

  /**
   * Whether a call spends a count credit: count keys always, hybrid keys when the model has a count
   * price of its own in model_price (the ledger's rule; only the count/token choice is needed here,
   * never an amount), and nobody when count billing is switched off.
   */
  private boolean spendsRequests(BillingMode mode, String model) {
    if (!prices.countBillingEnabled() || mode == BillingMode.TOKEN) {
      return false;
    }
    if (mode == BillingMode.COUNT) {
      return true;
    }
    return ModelPrefixes.longest(prices.modelPrices().keySet(), model)
        .map(entry -> prices.modelPrices().get(entry).countPrice())
        .isPresent();
  }
}
