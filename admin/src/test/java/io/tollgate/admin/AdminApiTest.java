package io.tollgate.admin;

import static io.tollgate.admin.Http.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.infrastructure.CommandBatcher;
import io.tollgate.projections.status.ViewStatus;
import io.tollgate.testing.TestPostgres;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * The admin API over real HTTP against a running application: uni-api's fields and JSON types, the
 * seed guide's curl flows, bad parameters, and who may call what.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminApiTest {

  private static final String COUNT_USER = "sk-count-user-key";
  private static final String TOKEN_USER = "sk-token-user-key";
  private static final String HYBRID_USER = "sk-hybrid-user-key";

  private ConfigurableApplicationContext app;
  private Http http;

  @BeforeAll
  void start() {
    app = AdminTestApplication.start(TestPostgres.newDatabase());
    http = new Http(app);
    Instant now = Instant.now();
    List<Object> charges = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      charges.add(charge(COUNT_USER, "guide-" + i, "gpt-4o", 100, 50, true, now));
    }
    charges.add(charge(COUNT_USER, "failed-1", "gpt-4o", 0, 0, false, now));
    charges.add(charge(HYBRID_USER, "hybrid-1", "claude-3-5-sonnet", 2000, 1000, true, now));
    charges.add(charge(TOKEN_USER, "token-1", "gpt-4o", 1000, 500, true, now));
    assertThat(app.getBean(CommandBatcher.class).dispatchAll(charges))
        .allMatch(CommandBatcher.Outcome::succeeded);
    assertThat(app.getBean(ViewStatus.class).awaitCaughtUp(Duration.ofMinutes(1))).isTrue();
  }

  @AfterAll
  void stop() {
    app.close();
  }

  private static ChargeRequestCommand charge(
      String rawKey,
      String id,
      String model,
      long prompt,
      long completion,
      boolean success,
      Instant end) {
    String keyId = KeyIds.of(rawKey);
    return new ChargeRequestCommand(
        keyId,
        new RequestCompleted(
            id,
            keyId,
            model,
            "/v1/chat/completions",
            "openai",
            success,
            success ? 200 : 502,
            prompt,
            completion,
            false,
            end.minusMillis(500),
            end),
        end);
  }

  private JsonNode state(String rawKey) {
    Http.Response response = http.get("/v1/api_keys_states", ADMIN);
    assertThat(response.status()).isEqualTo(200);
    return response.json().get("api_keys_states").get(rawKey);
  }

  @Test
  void apiKeysStatesHasEveryKeyWithUniApisFieldsAndJsonTypes() {
    Http.Response response = http.get("/v1/api_keys_states", ADMIN);
    assertThat(response.status()).isEqualTo(200);
    JsonNode states = response.json().get("api_keys_states");
    assertThat(states.propertyNames())
        .contains(ADMIN, COUNT_USER, TOKEN_USER, HYBRID_USER, "sk-user-key");

    JsonNode count = states.get(COUNT_USER);
    assertThat(count.get("billing_mode").asString()).isEqualTo("count");
    assertThat(count.get("credits").isNumber()).isTrue();
    assertThat(count.get("credits").decimalValue()).isEqualByComparingTo("-1");
    assertThat(count.get("count_credits").isIntegralNumber()).isTrue();
    assertThat(count.get("total_cost").isNumber()).isTrue();
    assertThat(count.get("total_cost").decimalValue()).isEqualByComparingTo("0.05");
    assertThat(count.get("enabled").isBoolean()).isTrue();
    assertThat(count.get("created_at").asString()).isEqualTo("2023-12-31T16:00:00Z");
    JsonNode info = count.get("all_tokens_info").get(0);
    assertThat(info.get("api_key_prefix").asString()).isEqualTo("sk-coun...-key");
    assertThat(info.get("model").asString()).isEqualTo("gpt-4o");
    assertThat(info.get("total_prompt_tokens").asLong()).isEqualTo(500);
    assertThat(info.get("total_completion_tokens").asLong()).isEqualTo(250);
    assertThat(info.get("total_tokens").asLong()).isEqualTo(750);
    assertThat(info.get("request_count").asLong()).isEqualTo(5);
    JsonNode costDetails = count.get("cost_details");
    assertThat(costDetails.get("total_cost").decimalValue()).isEqualByComparingTo("0.05");
    assertThat(costDetails.get("billing_mode").asString()).isEqualTo("count");
    JsonNode detail = costDetails.get("billing_details").get(0);
    assertThat(detail.get("model").asString()).isEqualTo("gpt-4o");
    assertThat(detail.get("cost").decimalValue()).isEqualByComparingTo("0.05");
    assertThat(detail.get("cost_type").asString()).isEqualTo("count");
    assertThat(detail.get("request_count").asLong()).isEqualTo(5);
    assertThat(detail.get("prompt_tokens").asLong()).isEqualTo(500);
    assertThat(detail.get("completion_tokens").asLong()).isEqualTo(250);
    assertThat(count.get("balance").isNull()).as("unlimited USD balance").isTrue();

    JsonNode admin = states.get(ADMIN);
    assertThat(admin.get("credits").decimalValue()).isEqualByComparingTo("-1");
    assertThat(admin.get("count_credits").asLong()).isEqualTo(-1);
    assertThat(admin.get("total_cost").decimalValue()).isEqualByComparingTo("0");
  }

  @Test
  void amountsAreWrittenAsPlainDecimalNumbers() {
    Http.Response response = http.get("/v1/api_keys_states", ADMIN);
    assertThat(response.body()).contains("\"total_cost\":0.00072").doesNotContain("E-");
    assertThat(state(HYBRID_USER).get("balance").decimalValue()).isEqualByComparingTo("4.99928");
  }

  @Test
  void guideFlowAddsOneHundredCountCreditsAndTheNextReadShowsThem() {
    long before = state(COUNT_USER).get("count_credits").asLong();
    Http.Response response =
        http.post("/v1/add_count_credits?paid_key=sk-count-user-key&amount=100", ADMIN);
    assertThat(response.status()).isEqualTo(200);
    JsonNode body = response.json();
    assertThat(body.get("message").asString()).isNotBlank();
    assertThat(body.get("paid_key").asString()).isEqualTo(COUNT_USER);
    assertThat(body.get("new_count_credits").asLong()).isEqualTo(before + 100);
    assertThat(body.get("enabled").asBoolean()).isTrue();
    assertThat(state(COUNT_USER).get("count_credits").asLong()).isEqualTo(before + 100);
  }

  @Test
  void guideFlowSwitchesAKeyToCountMode() {
    Http.Response response =
        http.post("/v1/set_billing_mode?paid_key=sk-user-key&billing_mode=count", ADMIN);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().get("billing_mode").asString()).isEqualTo("count");
    assertThat(response.json().get("paid_key").asString()).isEqualTo("sk-user-key");
    assertThat(response.json().get("enabled").asBoolean()).isTrue();
    assertThat(state("sk-user-key").get("billing_mode").asString()).isEqualTo("count");
    assertThat(state("sk-user-key").get("cost_details").get("billing_mode").asString())
        .isEqualTo("count");
  }

  @Test
  void addCreditsGrowsALimitedBalanceAndRefusesAnUnlimitedOne() {
    BigDecimal before = state(TOKEN_USER).get("credits").decimalValue();
    Http.Response response =
        http.post("/v1/add_credits?paid_key=sk-token-user-key&amount=2.5", ADMIN);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().get("new_credits").decimalValue())
        .isEqualByComparingTo(before.add(new BigDecimal("2.5")));
    assertThat(state(TOKEN_USER).get("credits").decimalValue())
        .isEqualByComparingTo(before.add(new BigDecimal("2.5")));

    assertThat(http.post("/v1/add_credits?paid_key=sk-count-user-key&amount=1", ADMIN).status())
        .isEqualTo(409);
    assertThat(
            http.post("/v1/add_count_credits?paid_key=sk-token-user-key&amount=1", ADMIN).status())
        .isEqualTo(409);
  }

  @Test
  void guideFlowReadsUsageOfAKey() {
    Http.Response response = http.get("/v1/token_usage?api_key_param=sk-count-user-key", ADMIN);
    assertThat(response.status()).isEqualTo(200);
    JsonNode body = response.json();
    JsonNode usage = body.get("usage");
    assertThat(usage).hasSize(1);
    assertThat(usage.get(0).get("api_key_prefix").asString()).isEqualTo("sk-coun...-key");
    assertThat(usage.get(0).get("model").asString()).isEqualTo("gpt-4o");
    assertThat(usage.get(0).get("total_tokens").asLong()).isEqualTo(750);
    assertThat(usage.get(0).get("request_count").asLong()).isEqualTo(5);
    JsonNode details = body.get("query_details");
    for (String field :
        List.of(
            "start_datetime",
            "end_datetime",
            "api_key_filter",
            "model_filter",
            "credits",
            "total_cost",
            "balance",
            "billing_mode",
            "count_credits",
            "total_requests",
            "count_balance")) {
      assertThat(details.has(field)).as(field).isTrue();
    }
    assertThat(details.get("api_key_filter").asString()).isEqualTo(COUNT_USER);
    assertThat(details.get("total_requests").asLong()).isEqualTo(5);
    assertThat(details.get("total_cost").decimalValue()).isEqualByComparingTo("0.05");
    assertThat(details.get("billing_mode").asString()).isEqualTo("count");
    long countCredits = details.get("count_credits").asLong();
    assertThat(details.get("count_balance").asLong()).isEqualTo(countCredits - 5);
  }

  @Test
  void tokenUsageWindowsFollowTheContract() {
    String day = Instant.now().toString().substring(0, 10);
    Http.Response wholeDay =
        http.get(
            "/v1/token_usage?api_key_param=sk-count-user-key&start_datetime="
                + day
                + "&end_datetime="
                + day,
            ADMIN);
    assertThat(wholeDay.status()).isEqualTo(200);
    assertThat(wholeDay.json().get("usage")).hasSize(1);
    Http.Response lastDay =
        http.get("/v1/token_usage?api_key_param=sk-count-user-key&last_n_days=1", ADMIN);
    assertThat(lastDay.json().get("usage")).hasSize(1);
    long epoch = Instant.now().minusSeconds(30 * 86400L).getEpochSecond();
    Http.Response old =
        http.get(
            "/v1/token_usage?start_datetime=" + (epoch - 86400) + "&end_datetime=" + epoch, ADMIN);
    assertThat(old.status()).isEqualTo(200);
    assertThat(old.json().get("usage")).isEmpty();
    Http.Response all = http.get("/v1/token_usage", ADMIN);
    assertThat(all.json().get("usage").size()).isGreaterThanOrEqualTo(3);
  }

  @Test
  void aUserKeySeesOnlyItsOwnUsageWhateverItAsks() {
    for (String query :
        List.of(
            "",
            "?api_key_param=sk-count-user-key",
            "?api_key_param=sk-admin-key",
            "?api_key_param=sk-does-not-exist",
            "?model=gpt-4o&api_key_param=sk-count-user-key")) {
      Http.Response response = http.get("/v1/token_usage" + query, TOKEN_USER);
      assertThat(response.status()).as(query).isEqualTo(200);
      JsonNode usage = response.json().get("usage");
      assertThat(usage).as(query).hasSize(1);
      assertThat(usage.get(0).get("api_key_prefix").asString()).isEqualTo("sk-toke...-key");
      assertThat(response.json().get("query_details").get("api_key_filter").asString())
          .isEqualTo(TOKEN_USER);
    }
  }

  @Test
  void badParametersGet400NamingTheParameterAndChangeNothing() {
    String before = http.get("/v1/api_keys_states", ADMIN).body();
    record Case(String method, String path, String param) {}
    List<Case> cases =
        List.of(
            new Case("POST", "/v1/add_credits?paid_key=sk-token-user-key&amount=-1", "amount"),
            new Case("POST", "/v1/add_credits?paid_key=sk-token-user-key&amount=0", "amount"),
            new Case("POST", "/v1/add_credits?paid_key=sk-token-user-key&amount=NaN", "amount"),
            new Case(
                "POST", "/v1/add_credits?paid_key=sk-token-user-key&amount=Infinity", "amount"),
            new Case("POST", "/v1/add_credits?paid_key=sk-token-user-key&amount=1e400", "amount"),
            new Case("POST", "/v1/add_credits?paid_key=sk-token-user-key&amount=ten", "amount"),
            new Case("POST", "/v1/add_credits?paid_key=sk-token-user-key", "amount"),
            new Case(
                "POST", "/v1/add_count_credits?paid_key=sk-count-user-key&amount=1.5", "amount"),
            new Case(
                "POST", "/v1/add_count_credits?paid_key=sk-count-user-key&amount=-100", "amount"),
            new Case(
                "POST",
                "/v1/add_count_credits?paid_key=sk-count-user-key&amount=99999999999999999999",
                "amount"),
            new Case("POST", "/v1/add_count_credits?amount=5", "paid_key"),
            new Case(
                "POST",
                "/v1/set_billing_mode?paid_key=sk-user-key&billing_mode=free",
                "billing_mode"),
            new Case("GET", "/v1/token_usage?start_datetime=yesterday", "start_datetime"),
            new Case("GET", "/v1/token_usage?end_datetime=2024-13-45", "end_datetime"),
            new Case("GET", "/v1/token_usage?last_n_days=0", "last_n_days"),
            new Case("GET", "/v1/token_usage?last_n_days=-3", "last_n_days"),
            new Case(
                "GET", "/v1/token_usage?last_n_days=7&start_datetime=2024-01-01", "last_n_days"),
            new Case(
                "GET",
                "/v1/token_usage?start_datetime=2024-02-01&end_datetime=2024-01-01",
                "end_datetime"),
            new Case("GET", "/v1/stats?hours=0", "hours"),
            new Case("GET", "/v1/stats?hours=721", "hours"),
            new Case("GET", "/v1/stats?hours=many", "hours"));
    for (Case c : cases) {
      Http.Response response = http.send(c.method(), c.path(), "Bearer " + ADMIN, null);
      assertThat(response.status()).as(c.path()).isEqualTo(400);
      JsonNode error = response.json().get("error");
      // uni-api's exact sentence for a bad mode says "billing mode"; every other message quotes the
      // name.
      assertThat(error.get("message").asString())
          .as(c.path())
          .contains(c.param().equals("billing_mode") ? "billing mode" : c.param());
      assertThat(error.get("param").asString()).as(c.path()).isEqualTo(c.param());
    }
    assertThat(
            http.post("/v1/set_billing_mode?paid_key=sk-user-key&billing_mode=free", ADMIN)
                .json()
                .get("detail")
                .asString())
        .isEqualTo("Invalid billing mode. Must be 'token', 'count', or 'hybrid'.");
    assertThat(http.get("/v1/api_keys_states", ADMIN).body()).isEqualTo(before);
  }

  @Test
  void anUnknownPaidKeyIs404() {
    assertThat(http.post("/v1/add_credits?paid_key=sk-nobody&amount=1", ADMIN).status())
        .isEqualTo(404);
    assertThat(http.post("/v1/add_count_credits?paid_key=sk-nobody&amount=1", ADMIN).status())
        .isEqualTo(404);
    assertThat(
            http.post("/v1/set_billing_mode?paid_key=sk-nobody&billing_mode=count", ADMIN).status())
        .isEqualTo(404);
    assertThat(http.get("/v1/token_usage?api_key_param=sk-nobody", ADMIN).status()).isEqualTo(404);
  }

  @Test
  void authorizationMatrixOverEveryEndpoint() {
    record Endpoint(String method, String path, boolean adminOnly) {}
    // Admin calls with a bad amount or mode: they pass authorization and are refused at 400
    // without changing anything.
    List<Endpoint> endpoints =
        List.of(
            new Endpoint("GET", "/v1/api_keys_states", true),
            new Endpoint("POST", "/v1/add_credits?paid_key=sk-token-user-key&amount=0", true),
            new Endpoint("POST", "/v1/add_count_credits?paid_key=sk-count-user-key&amount=0", true),
            new Endpoint(
                "POST", "/v1/set_billing_mode?paid_key=sk-user-key&billing_mode=none", true),
            new Endpoint("GET", "/v1/stats", true),
            new Endpoint("GET", "/v1/billing/consistency", true),
            new Endpoint("GET", "/v1/billing/rebuild", true),
            new Endpoint("POST", "/v1/billing/rebuild", true),
            new Endpoint("GET", "/v1/token_usage", false),
            new Endpoint("GET", "/v1/models", false),
            new Endpoint("GET", "/v1/billing/history", false));
    for (Endpoint e : endpoints) {
      int asUser = http.send(e.method(), e.path(), "Bearer " + TOKEN_USER, null).status();
      assertThat(asUser).as("user on " + e.path()).isEqualTo(e.adminOnly() ? 403 : 200);
      assertThat(http.send(e.method(), e.path(), "Bearer sk-unknown-key", null).status())
          .as("unknown on " + e.path())
          .isEqualTo(403);
      assertThat(http.send(e.method(), e.path(), null, null).status())
          .as("missing on " + e.path())
          .isEqualTo(403);
      assertThat(http.send(e.method(), e.path(), "Bearer ", null).status())
          .as("empty on " + e.path())
          .isEqualTo(403);
      if (!e.path().equals("/v1/billing/rebuild") || e.method().equals("GET")) {
        int asAdmin =
            http.send(
                    e.method(),
                    e.path()
                        .replace(
                            "/v1/billing/history", "/v1/billing/history?paid_key=" + COUNT_USER),
                    "Bearer " + ADMIN,
                    null)
                .status();
        assertThat(asAdmin).as("admin on " + e.path()).isIn(200, 400);
      }
    }
    Http.Response forbidden = http.get("/v1/api_keys_states", TOKEN_USER);
    assertThat(forbidden.json().get("error").get("message").asString()).contains("admin");
    assertThat(http.get("/v1/api_keys_states", null).json().get("error").get("message").asString())
        .isEqualTo("Invalid or missing API Key");
  }

  @Test
  void theKeyMayComeInTheXApiKeyHeader() {
    assertThat(http.withApiKeyHeader("GET", "/v1/api_keys_states", ADMIN).status()).isEqualTo(200);
    assertThat(http.withApiKeyHeader("GET", "/v1/api_keys_states", COUNT_USER).status())
        .isEqualTo(403);
  }

  @Test
  void modelsListsWhatTheKeyMayCall() {
    JsonNode restricted = http.get("/v1/models", COUNT_USER).json();
    assertThat(restricted.get("object").asString()).isEqualTo("list");
    assertThat(restricted.get("data"))
        .extracting(n -> n.get("id").asString())
        .containsExactly("gpt-4o", "claude-3-5-sonnet");
    assertThat(http.get("/v1/models", TOKEN_USER).json().get("data")).hasSize(4);
  }

  @Test
  void statsCountRequestsAndSuccessRatesByModelKeyAndEndpoint() {
    Http.Response response = http.get("/v1/stats?hours=24", ADMIN);
    assertThat(response.status()).isEqualTo(200);
    JsonNode stats = response.json().get("stats");
    assertThat(stats.get("total_requests").asLong()).isEqualTo(8);
    JsonNode gpt4o = null;
    for (JsonNode m : stats.get("model_request_counts")) {
      if (m.get("model").asString().equals("gpt-4o")) {
        gpt4o = m;
      }
    }
    assertThat(gpt4o.get("count").asLong()).isEqualTo(7);
    assertThat(gpt4o.get("success_count").asLong()).isEqualTo(6);
    assertThat(gpt4o.get("success_rate").decimalValue()).isEqualByComparingTo("0.8571");
    assertThat(stats.get("key_request_counts")).hasSize(3);
    assertThat(stats.get("endpoint_request_counts").get(0).get("endpoint").asString())
        .isEqualTo("/v1/chat/completions");
    assertThat(stats.get("hourly_request_counts").size()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void historyIsNewestFirstPagedByCursorAndExportsCsv() {
    Http.Response first = http.get("/v1/billing/history?paid_key=sk-count-user-key&limit=2", ADMIN);
    assertThat(first.status()).isEqualTo(200);
    JsonNode page = first.json();
    assertThat(page.get("history")).hasSize(2);
    long newest = page.get("history").get(0).get("global_index").asLong();
    long second = page.get("history").get(1).get("global_index").asLong();
    assertThat(newest).isGreaterThan(second);
    long cursor = page.get("next_cursor").asLong();
    JsonNode next =
        http.get("/v1/billing/history?paid_key=sk-count-user-key&limit=2&cursor=" + cursor, ADMIN)
            .json();
    assertThat(next.get("history").get(0).get("global_index").asLong()).isLessThan(second);

    JsonNode own = http.get("/v1/billing/history?limit=1000", COUNT_USER).json();
    JsonNode charge = null;
    for (JsonNode row : own.get("history")) {
      if ("guide-0".equals(row.get("request_id").asString(null))) {
        charge = row;
      }
    }
    assertThat(charge.get("event_type").asString()).isEqualTo("request_charged");
    assertThat(charge.get("count_price").decimalValue()).isEqualByComparingTo("0.01");
    assertThat(charge.get("price_version").asString()).isNotBlank();
    assertThat(charge.get("cost_type").asString()).isEqualTo("count");
    assertThat(http.get("/v1/billing/history?paid_key=sk-token-user-key", COUNT_USER).status())
        .isEqualTo(403);

    Http.Response csv =
        http.send(
            "GET", "/v1/billing/history?paid_key=sk-count-user-key", "Bearer " + ADMIN, "text/csv");
    assertThat(csv.status()).isEqualTo(200);
    assertThat(csv.contentType()).startsWith("text/csv");
    String[] lines = csv.body().split("\n");
    assertThat(lines[0]).startsWith("global_index,at,event_type");
    assertThat(csv.body())
        .contains("guide-0")
        .contains("request_charged")
        .contains("key_registered");
    assertThat(lines.length - 1).isEqualTo(own.get("history").size());
  }

  @Test
  void everyKeyReconcilesWithItsHistory() {
    Http.Response response = http.get("/v1/billing/consistency", ADMIN);
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().get("problems")).isEmpty();
    assertThat(response.json().get("consistent").asBoolean()).isTrue();
  }

  @Test
  void theAdminApiIsDescribedByOpenApi() {
    Http.Response docs = http.get("/v3/api-docs", null);
    assertThat(docs.status()).isEqualTo(200);
    JsonNode paths = docs.json().get("paths");
    assertThat(paths.propertyNames())
        .contains(
            "/v1/api_keys_states",
            "/v1/add_credits",
            "/v1/add_count_credits",
            "/v1/set_billing_mode",
            "/v1/token_usage",
            "/v1/stats",
            "/v1/models",
            "/v1/billing/history",
            "/v1/billing/rebuild");
  }

  @Test
  void theWebConsoleIsServedAtTheRoot() {
    Http.Response page = http.get("/index.html", null);
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.body())
        .contains("Tollgate console")
        .contains("/v1/api_keys_states")
        .contains("/v1/stats");
  }

  @Test
  void projectionLagIsAMetricAndAHealthComponent() {
    assertThat(app.getBean(ViewStatus.class).awaitCaughtUp(Duration.ofMinutes(1))).isTrue();
    io.micrometer.core.instrument.MeterRegistry meters =
        app.getBean(io.micrometer.core.instrument.MeterRegistry.class);
    assertThat(
            meters
                .get("tollgate.projection.lag")
                .tag("processor", "tollgate-views")
                .gauge()
                .value())
        .isZero();
    Http.Response health = http.get("/actuator/health", null);
    assertThat(health.status()).isEqualTo(200);
    JsonNode views = health.json().get("components").get("views");
    assertThat(views.get("status").asString()).isEqualTo("UP");
    assertThat(views.get("details").get("lag_seconds").asDouble()).isZero();
    assertThat(views.get("details").get("processor").asString()).isEqualTo("tollgate-views");
  }
}
