package io.tollgate.admin;

import static io.tollgate.admin.Http.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.infrastructure.CommandBatcher;
import io.tollgate.projections.status.ViewStatus;
import io.tollgate.testing.TestPostgres;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * Admin changes are ledger events: they outlive the process, and a rebuild reproduces the views.
 */
class AdminPersistenceTest {

  private final TestPostgres.Database database = TestPostgres.newDatabase();
  private ConfigurableApplicationContext app;

  @AfterEach
  void stop() {
    if (app != null) {
      app.close();
    }
  }

  private Http start() {
    app = AdminTestApplication.start(database);
    assertThat(app.getBean(ViewStatus.class).awaitCaughtUp(Duration.ofMinutes(1))).isTrue();
    return new Http(app);
  }

  @Test
  void topUpsAndModeChangesSurviveARestartWithTheSameConfig() {
    Http http = start();
    assertThat(
            http.post("/v1/add_count_credits?paid_key=sk-count-user-key&amount=100", ADMIN)
                .status())
        .isEqualTo(200);
    assertThat(http.post("/v1/add_credits?paid_key=sk-hybrid-user-key&amount=0.5", ADMIN).status())
        .isEqualTo(200);
    assertThat(
            http.post("/v1/set_billing_mode?paid_key=sk-token-user-key&billing_mode=hybrid", ADMIN)
                .status())
        .isEqualTo(200);
    String before = http.get("/v1/api_keys_states", ADMIN).body();
    app.close();

    http = start();
    JsonNode states = http.get("/v1/api_keys_states", ADMIN).json().get("api_keys_states");
    assertThat(states.get("sk-count-user-key").get("count_credits").asLong()).isEqualTo(1100);
    assertThat(states.get("sk-hybrid-user-key").get("credits").decimalValue())
        .isEqualByComparingTo("5.5");
    assertThat(states.get("sk-token-user-key").get("billing_mode").asString()).isEqualTo("hybrid");
    assertThat(http.get("/v1/api_keys_states", ADMIN).body()).isEqualTo(before);
  }

  @Test
  void theRebuildEndpointReportsProgressAndReproducesTheViewsExactly() {
    Http http = start();
    Instant now = Instant.now();
    List<Object> charges = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      String raw = i % 2 == 0 ? "sk-count-user-key" : "sk-hybrid-user-key";
      String keyId = KeyIds.of(raw);
      charges.add(
          new ChargeRequestCommand(
              keyId,
              new RequestCompleted(
                  "rb-" + i,
                  keyId,
                  i % 3 == 0 ? "claude-3-5-sonnet" : "gpt-4o",
                  "/v1/chat/completions",
                  "openai",
                  i % 7 != 0,
                  200,
                  10L * i,
                  3L * i,
                  false,
                  now.minusSeconds(3600L * i + 1),
                  now.minusSeconds(3600L * i)),
              now));
    }
    assertThat(app.getBean(CommandBatcher.class).dispatchAll(charges))
        .allMatch(CommandBatcher.Outcome::succeeded);
    assertThat(
            http.post("/v1/add_count_credits?paid_key=sk-count-user-key&amount=7", ADMIN).status())
        .isEqualTo(200);
    String states = http.get("/v1/api_keys_states", ADMIN).body();
    String usage = http.get("/v1/token_usage?last_n_days=30", ADMIN).body();
    String history =
        http.send(
                "GET",
                "/v1/billing/history?paid_key=sk-hybrid-user-key",
                "Bearer " + ADMIN,
                "text/csv")
            .body();

    Http.Response started = http.post("/v1/billing/rebuild", ADMIN);
    assertThat(started.status()).isEqualTo(202);
    assertThat(started.json().get("events_total").asLong()).isPositive();
    JsonNode progress;
    do {
      progress = http.get("/v1/billing/rebuild", ADMIN).json();
    } while (progress.get("running").asBoolean());
    assertThat(progress.get("events_done").asLong())
        .isEqualTo(progress.get("events_total").asLong());
    assertThat(progress.get("finished_at").isNull()).isFalse();
    assertThat(progress.get("error").isNull()).isTrue();

    assertThat(http.get("/v1/api_keys_states", ADMIN).body()).isEqualTo(states);
    assertThat(withoutWindow(http.get("/v1/token_usage?last_n_days=30", ADMIN).body()))
        .isEqualTo(withoutWindow(usage));
    assertThat(
            http.send(
                    "GET",
                    "/v1/billing/history?paid_key=sk-hybrid-user-key",
                    "Bearer " + ADMIN,
                    "text/csv")
                .body())
        .isEqualTo(history);
    assertThat(http.get("/v1/billing/consistency", ADMIN).json().get("consistent").asBoolean())
        .isTrue();
  }

  private static String withoutWindow(String body) {
    return body.replaceAll("\"(start|end)_datetime\":\"[^\"]*\"", "");
  }
}
