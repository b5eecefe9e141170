package io.tollgate.gateway.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.ApiConfigParser;
import io.tollgate.contracts.KeyBalance;
import io.tollgate.contracts.KeyIds;
import io.tollgate.gateway.admission.Admission.Admitted;
import io.tollgate.gateway.admission.Admission.Refused;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdmissionTest {

  @TempDir Path dir;

  private final AtomicLong now = new AtomicLong();

  private BalanceView view() {
    return new BalanceView(now::get, Duration.ofSeconds(5));
  }

  private Admission admission(BalanceView view) throws Exception {
    return admission(view, 0);
  }

  private Admission admission(BalanceView view, int maxRunningPerLimitedKey) throws Exception {
    Path file = dir.resolve("api.yaml");
    Files.writeString(
        file,
        """
        providers:
          - provider: p
            base_url: http://127.0.0.1:9/v1/chat/completions
            model: [gpt-4o, claude-3-5-sonnet]
        api_keys:
          - api: sk-token
            preferences: {credits: 1}
          - api: sk-count
            model: [gpt-4o]
            preferences: {billing_mode: count, count_credits: 3}
          - api: sk-hybrid
            preferences: {billing_mode: hybrid, count_credits: 0}
          - api: sk-off
            preferences: {enabled: false}
          - api: sk-free
          - api: sk-free-one-at-a-time
            preferences: {max_running: 1}
          - api: sk-token-three
            preferences: {credits: 1, max_running: 3}
          - api: sk-paced
            preferences: {billing_mode: count, count_credits: 1, rate_limit: 2/min}
        preferences:
          count_billing: {enabled: true}
          model_price:
            gpt-4o: {token_price: "1,2", count_price: 0.01}
            default: 1,2
        """);
    ApiConfig config = ApiConfigParser.parse(file);
    return new Admission(
        new KeyDirectory(config),
        view,
        new RateLimiter(now::get),
        config.prices(),
        maxRunningPerLimitedKey);
  }

  @Test
  void anUnknownOrMissingKeyIsRefusedWith403() throws Exception {
    Admission admission = admission(view());
    assertThat(admission.admit("sk-nope", "gpt-4o"))
        .isInstanceOfSatisfying(
            Refused.class,
            refused -> {
              assertThat(refused.status()).isEqualTo(403);
              assertThat(refused.message()).isEqualTo("Invalid or missing API Key");
            });
    assertThat(admission.admit(null, "gpt-4o"))
        .isInstanceOfSatisfying(
            Refused.class, refused -> assertThat(refused.status()).isEqualTo(403));
  }

  @Test
  void aModelOutsideTheKeysListIsRefusedWith403() throws Exception {
    assertThat(admission(view()).admit("sk-count", "claude-3-5-sonnet"))
        .isInstanceOfSatisfying(
            Refused.class, refused -> assertThat(refused.status()).isEqualTo(403));
  }

  @Test
  void aDisabledKeyIsRefusedAsInsufficient() throws Exception {
    assertThat(admission(view()).admit("sk-off", "gpt-4o"))
        .isInstanceOfSatisfying(
            Refused.class,
            refused -> {
              assertThat(refused.status()).isEqualTo(429);
              assertThat(refused.code()).isEqualTo("insufficient_quota");
            });
  }

  @Test
  void concurrentCallsOfACountKeyAreAdmittedOnlyUpToItsRequestsLeft() throws Exception {
    Admission admission = admission(view());
    assertThat(admission.admit("sk-count", "gpt-4o")).isInstanceOf(Admitted.class);
    assertThat(admission.admit("sk-count", "gpt-4o")).isInstanceOf(Admitted.class);
    assertThat(admission.admit("sk-count", "gpt-4o")).isInstanceOf(Admitted.class);
    // None of the three has finished: the fourth would spend a request the key does not have.
    assertThat(admission.admit("sk-count", "gpt-4o")).isInstanceOf(Refused.class);
  }

  @Test
  void aHybridKeyWithoutRequestsMayStillCallATokenPricedModel() throws Exception {
    Admission admission = admission(view());
    assertThat(admission.admit("sk-hybrid", "gpt-4o")).isInstanceOf(Refused.class);
    assertThat(admission.admit("sk-hybrid", "claude-3-5-sonnet")).isInstanceOf(Admitted.class);
  }

  @Test
  void thePublishedBalanceReplacesTheFilesGrantAndAnOlderOneIsIgnored() throws Exception {
    BalanceView view = view();
    Admission admission = admission(view);
    String keyId = KeyIds.of("sk-token");
    view.update(new KeyBalance(keyId, "token", BigDecimal.ZERO, null, true, 7, Instant.now()));
    assertThat(admission.admit("sk-token", "gpt-4o")).isInstanceOf(Refused.class);
    view.update(new KeyBalance(keyId, "token", BigDecimal.TEN, null, true, 5, Instant.now()));
    assertThat(admission.admit("sk-token", "gpt-4o")).isInstanceOf(Refused.class);
    view.update(
        new KeyBalance(keyId, "token", new BigDecimal("0.5"), null, true, 8, Instant.now()));
    assertThat(admission.admit("sk-token", "gpt-4o")).isInstanceOf(Admitted.class);
  }

  @Test
  void aFinishedCallStaysReservedForTheHoldWhileItsChargeTravels() throws Exception {
    BalanceView view = view();
    Admission admission = admission(view);
    String keyId = KeyIds.of("sk-count");
    for (int i = 0; i < 3; i++) {
      assertThat(admission.admit("sk-count", "gpt-4o")).isInstanceOf(Admitted.class);
      view.finished(keyId);
    }
    now.addAndGet(Duration.ofSeconds(4).toNanos());
    assertThat(admission.admit("sk-count", "gpt-4o")).isInstanceOf(Refused.class);
    // The hold is over; the file still grants 3 and no balance came, as if the ledger were away.
    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(view.reserved(keyId)).isZero();
    assertThat(admission.admit("sk-count", "gpt-4o")).isInstanceOf(Admitted.class);
  }

  @Test
  void aKeyWithALimitedBalanceRunsAtMostTheCapAtOnce() throws Exception {
    BalanceView view = view();
    Admission admission = admission(view, 2);
    assertThat(admission.admit("sk-token", "gpt-4o")).isInstanceOf(Admitted.class);
    assertThat(admission.admit("sk-token", "gpt-4o")).isInstanceOf(Admitted.class);
    assertThat(admission.admit("sk-token", "gpt-4o"))
        .isInstanceOfSatisfying(
            Refused.class,
            refused -> {
              assertThat(refused.status()).isEqualTo(429);
              assertThat(refused.code()).isEqualTo("too_many_running_calls");
              assertThat(refused.message())
                  .isEqualTo(
                      "This API key already has 2 calls running, the most it may run at once.");
              assertThat(refused.retryAfter()).isEqualTo(Duration.ofSeconds(1));
            });
    // One ends: its charge is on its way, and the key may start another at once.
    view.finished(KeyIds.of("sk-token"));
    assertThat(admission.admit("sk-token", "gpt-4o")).isInstanceOf(Admitted.class);
  }

  @Test
  void aKeyWithoutAUsdLimitIsNotCapped() throws Exception {
    Admission admission = admission(view(), 2);
    for (int i = 0; i < 5; i++) {
      assertThat(admission.admit("sk-free", "gpt-4o")).isInstanceOf(Admitted.class);
    }
  }

  @Test
  void aKeysOwnMaxRunningAppliesWhateverItsBalanceAndOverridesTheGatewaysCap() throws Exception {
    Admission admission = admission(view(), 2);
    assertThat(admission.admit("sk-free-one-at-a-time", "gpt-4o")).isInstanceOf(Admitted.class);
    assertThat(admission.admit("sk-free-one-at-a-time", "gpt-4o"))
        .isInstanceOfSatisfying(
            Refused.class,
            refused -> {
              assertThat(refused.code()).isEqualTo("too_many_running_calls");
              assertThat(refused.message())
                  .isEqualTo(
                      "This API key already has 1 call running, the most it may run at once.");
            });
    for (int i = 0; i < 3; i++) {
      assertThat(admission.admit("sk-token-three", "gpt-4o")).isInstanceOf(Admitted.class);
    }
    assertThat(admission.admit("sk-token-three", "gpt-4o")).isInstanceOf(Refused.class);
  }

  @Test
  void aNegativeCapIsRefusedNamingTheSetting() {
    assertThatThrownBy(() -> admission(view(), -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "tollgate.gateway.max-running-per-limited-key is -1; it must be 0 (no cap) or more");
  }

  @Test
  void aCallRefusedForWantOfRequestsSpendsNoRateLimitSlot() throws Exception {
    BalanceView view = view();
    Admission admission = admission(view);
    String keyId = KeyIds.of("sk-paced");
    assertThat(admission.admit("sk-paced", "gpt-4o")).isInstanceOf(Admitted.class);
    view.finished(keyId);
    assertThat(admission.admit("sk-paced", "gpt-4o"))
        .isInstanceOfSatisfying(
            Refused.class, refused -> assertThat(refused.code()).isEqualTo("insufficient_quota"));
    // The hold is over and no balance came: the file's one request is free again, and the refused
    // call above must not have taken the second of the two calls a minute allows.
    now.addAndGet(Duration.ofSeconds(5).toNanos());
    assertThat(admission.admit("sk-paced", "gpt-4o")).isInstanceOf(Admitted.class);
  }

  @Test
  void aCallRefusedByTheRateLimitHoldsNoReservation() throws Exception {
    BalanceView view = view();
    Admission admission = admission(view);
    String keyId = KeyIds.of("sk-paced");
    assertThat(admission.admit("sk-paced", "gpt-4o")).isInstanceOf(Admitted.class);
    view.finished(keyId);
    now.addAndGet(Duration.ofSeconds(5).toNanos());
    assertThat(admission.admit("sk-paced", "gpt-4o")).isInstanceOf(Admitted.class);
    view.finished(keyId);
    now.addAndGet(Duration.ofSeconds(5).toNanos());
    assertThat(view.reserved(keyId)).isZero();
    assertThat(admission.admit("sk-paced", "gpt-4o"))
        .isInstanceOfSatisfying(
            Refused.class, refused -> assertThat(refused.code()).isEqualTo("rate_limit_exceeded"));
    assertThat(view.reserved(keyId)).isZero();
  }
}
