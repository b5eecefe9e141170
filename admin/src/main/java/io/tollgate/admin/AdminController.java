package io.tollgate.admin;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.security.SecurityRequirement;
import io.swagger.v3.oas.annotations.tags.Tag;
import io.tollgate.admin.ApiKeys.Caller;
import io.tollgate.config.BillingMode;
import io.tollgate.contracts.KeyIds;
import io.tollgate.ledger.account.AccountCommands.AddCountCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.AddCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.SetBillingModeCommand;
import io.tollgate.projections.query.ViewQueries;
import io.tollgate.projections.query.ViewQueries.Count;
import io.tollgate.projections.query.ViewQueries.ModelUsage;
import io.tollgate.projections.query.ViewQueries.PeriodUsage;
import io.tollgate.projections.views.KeyStateRow;
import jakarta.servlet.http.HttpServletRequest;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * uni-api's admin endpoints at their own paths, with their field names and JSON types, plus the
 * count-billing fork's fields. Reads come from the views; changes go to the ledger as commands.
 */
@RestController
@ConditionalOnExpression("${tollgate.admin.enabled:true} and ${tollgate.projections.enabled:true}")
@Tag(name = "uni-api admin", description = "uni-api compatible billing endpoints")
@SecurityRequirement(name = "bearer")
class AdminController {

  private static final int MAX_LAST_N_DAYS = 3650;

  private final ApiKeys keys;
  private final ViewQueries views;
  private final LedgerCommands ledger;
  private final Clock clock = Clock.systemUTC();

  AdminController(ApiKeys keys, ViewQueries views, LedgerCommands ledger) {
    this.keys = keys;
    this.views = views;
    this.ledger = ledger;
  }

  @Operation(summary = "Every key's billing state (admin)")
  @GetMapping("/v1/api_keys_states")
  Map<String, Object> apiKeysStates(HttpServletRequest request) {
    keys.admin(request);
    Map<String, List<PeriodUsage>> usage =
        views.periodUsage(null).stream().collect(Collectors.groupingBy(PeriodUsage::keyId));
    Map<String, Object> states = new LinkedHashMap<>();
    for (KeyStateRow row : views.keyStates()) {
      states.put(
          keys.rawKey(row.keyId()), keyState(row, usage.getOrDefault(row.keyId(), List.of())));
    }
    return Map.of("api_keys_states", states);
  }

  private Map<String, Object> keyState(KeyStateRow row, List<PeriodUsage> usage) {
    String raw = keys.rawKey(row.keyId());
    Map<String, Map<String, Object>> byModel = new TreeMap<>();
    List<Map<String, Object>> details = new ArrayList<>();
    for (PeriodUsage u : usage) {
      Map<String, Object> detail = new LinkedHashMap<>();
      detail.put("model", u.model());
      detail.put("cost", Json.amount(u.cost()));
      detail.put("cost_type", u.costType());
      detail.put("request_count", u.requestCount());
      detail.put("prompt_tokens", u.promptTokens());
      detail.put("completion_tokens", u.completionTokens());
      details.add(detail);
      if (ViewQueries.correctionModel().equals(u.costType())) {
        continue;
      }
      Map<String, Object> info = byModel.computeIfAbsent(u.model(), m -> tokensInfo(raw, m));
      info.merge("total_prompt_tokens", u.promptTokens(), (a, b) -> (Long) a + (Long) b);
      info.merge("total_completion_tokens", u.completionTokens(), (a, b) -> (Long) a + (Long) b);
      info.merge(
          "total_tokens", u.promptTokens() + u.completionTokens(), (a, b) -> (Long) a + (Long) b);
      info.merge("request_count", u.requestCount(), (a, b) -> (Long) a + (Long) b);
    }
    Map<String, Object> costDetails = new LinkedHashMap<>();
    costDetails.put("total_cost", Json.amount(row.spentUsd()));
    costDetails.put("billing_mode", row.billingMode().wireName());
    costDetails.put("billing_details", details);

    Map<String, Object> state = new LinkedHashMap<>();
    state.put("credits", Json.amount(row.credits()));
    state.put("created_at", Json.time(row.createdAt()));
    state.put("all_tokens_info", new ArrayList<>(byModel.values()));
    state.put("total_cost", Json.amount(row.spentUsd()));
    state.put("enabled", row.enabled());
    state.put("billing_mode", row.billingMode().wireName());
    state.put("count_credits", row.countCredits());
    state.put("cost_details", costDetails);
    // The fork's count-billing figures, and the balances uni-api left to the reader to compute;
    // null means unlimited (credits or count_credits is -1).
    state.put("balance", Json.amount(row.usdBalance()));
    state.put("used_count_credits", row.spentRequests());
    state.put("count_balance", row.countBalance());
    return state;
  }

  private static Map<String, Object> tokensInfo(String rawKey, String model) {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("api_key_prefix", KeyIds.displayPrefix(rawKey));
    info.put("model", model);
    info.put("total_prompt_tokens", 0L);
    info.put("total_completion_tokens", 0L);
    info.put("total_tokens", 0L);
    info.put("request_count", 0L);
    return info;
  }

  @Operation(summary = "Add USD credits to a key (admin); recorded as a ledger event")
  @PostMapping("/v1/add_credits")
  Map<String, Object> addCredits(
      HttpServletRequest request,
      @Parameter(description = "the key to top up")
          @RequestParam(name = "paid_key", required = false)
          String paidKey,
      @Parameter(description = "USD, greater than 0") @RequestParam(required = false)
          String amount) {
    keys.admin(request);
    BigDecimal value = Params.positiveDecimal("amount", amount);
    String keyId = keys.keyIdOf("paid_key", paidKey);
    ledger.send(
        new AddCreditsCommand(keyId, value, "admin API add_credits", clock.instant()), "paid_key");
    KeyStateRow row = views.keyState(keyId).orElseThrow();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("message", "Successfully added " + value.toPlainString() + " credits to API key");
    body.put("paid_key", paidKey);
    body.put("new_credits", Json.amount(row.credits()));
    body.put("enabled", row.enabled());
    return body;
  }

  @Operation(summary = "Add request credits to a key (admin); recorded as a ledger event")
  @PostMapping("/v1/add_count_credits")
  Map<String, Object> addCountCredits(
      HttpServletRequest request,
      @RequestParam(name = "paid_key", required = false) String paidKey,
      @Parameter(description = "whole number of requests, greater than 0")
          @RequestParam(required = false)
          String amount) {
    keys.admin(request);
    long value = Params.positiveWhole("amount", amount);
    String keyId = keys.keyIdOf("paid_key", paidKey);
    ledger.send(
        new AddCountCreditsCommand(keyId, value, "admin API add_count_credits", clock.instant()),
        "paid_key");
    KeyStateRow row = views.keyState(keyId).orElseThrow();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("message", "Successfully added " + value + " count credits to API key");
    body.put("paid_key", paidKey);
    body.put("new_count_credits", row.countCredits());
    body.put("enabled", row.enabled());
    return body;
  }

  @Operation(summary = "Set a key's billing mode (admin): token, count or hybrid")
  @PostMapping("/v1/set_billing_mode")
  Map<String, Object> setBillingMode(
      HttpServletRequest request,
      @RequestParam(name = "paid_key", required = false) String paidKey,
      @RequestParam(name = "billing_mode", required = false) String billingMode) {
    keys.admin(request);
    BillingMode mode =
        BillingMode.parse(billingMode)
            .orElseThrow(
                () ->
                    ApiError.badParameter(
                        "billing_mode",
                        "Invalid billing mode. Must be 'token', 'count', or 'hybrid'."));
    String keyId = keys.keyIdOf("paid_key", paidKey);
    ledger.send(new SetBillingModeCommand(keyId, mode, clock.instant()), "paid_key");
    KeyStateRow row = views.keyState(keyId).orElseThrow();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("message", "Billing mode set to " + mode.wireName());
    body.put("paid_key", paidKey);
    body.put("billing_mode", row.billingMode().wireName());
    body.put("enabled", row.enabled());
    return body;
  }

  @Operation(
      summary = "Token usage by key and model over a window (any key; a user key sees only itself)")
  @GetMapping("/v1/token_usage")
  Map<String, Object> tokenUsage(
      HttpServletRequest request,
      @RequestParam(name = "api_key_param", required = false) String apiKeyParam,
      @RequestParam(required = false) String model,
      @Parameter(description = "Unix seconds or ISO 8601; no zone means UTC")
          @RequestParam(name = "start_datetime", required = false)
          String startText,
      @Parameter(description = "Unix seconds or ISO 8601; a bare date includes that whole day")
          @RequestParam(name = "end_datetime", required = false)
          String endText,
      @RequestParam(name = "last_n_days", required = false) String lastNDaysText) {
    Caller caller = keys.caller(request);
    String keyId;
    if (caller.isAdmin()) {
      keyId =
          apiKeyParam == null || apiKeyParam.isBlank()
              ? null
              : keys.keyIdOf("api_key_param", apiKeyParam);
    } else {
      keyId = caller.keyId(); // whatever it asks, a user key sees only its own usage
    }
    Instant start = Params.time("start_datetime", startText, false);
    Instant end = Params.time("end_datetime", endText, true);
    Integer lastNDays = null;
    if (lastNDaysText != null && !lastNDaysText.isBlank()) {
      if (start != null || end != null) {
        throw ApiError.badParameter(
            "last_n_days",
            "Parameter 'last_n_days' cannot be combined with 'start_datetime' or 'end_datetime'.");
      }
      lastNDays = Params.optionalInt("last_n_days", lastNDaysText, 1, MAX_LAST_N_DAYS);
    }
    Instant now = clock.instant();
    if (lastNDays != null) {
      end = now;
      start = now.minus(Duration.ofDays(lastNDays));
    } else {
      if (end == null) {
        end = now;
      }
      if (start == null) {
        start = end.minus(Duration.ofDays(30));
      }
    }
    if (end.isBefore(start)) {
      throw ApiError.badParameter(
          "end_datetime", "Parameter 'end_datetime' is before 'start_datetime'.");
    }
    String modelFilter = model == null || model.isBlank() ? null : model;
    List<ModelUsage> rows = views.tokenUsage(keyId, modelFilter, start, end);
    List<Map<String, Object>> usage = new ArrayList<>();
    long totalRequests = 0;
    for (ModelUsage u : rows) {
      Map<String, Object> entry = tokensInfo(keys.rawKey(u.keyId()), u.model());
      entry.put("total_prompt_tokens", u.promptTokens());
      entry.put("total_completion_tokens", u.completionTokens());
      entry.put("total_tokens", u.promptTokens() + u.completionTokens());
      entry.put("request_count", u.requestCount());
      entry.put("cost", Json.amount(u.cost()));
      usage.add(entry);
      totalRequests += u.requestCount();
    }
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("start_datetime", Json.time(start));
    details.put("end_datetime", Json.time(end));
    details.put("api_key_filter", keyId == null ? null : keys.rawKey(keyId));
    details.put("model_filter", modelFilter);
    KeyStateRow row = keyId == null ? null : views.keyState(keyId).orElse(null);
    details.put("credits", row == null ? null : Json.amount(row.credits()));
    details.put("total_cost", row == null ? null : Json.amount(row.spentUsd()));
    details.put("balance", row == null ? null : Json.amount(row.usdBalance()));
    details.put("billing_mode", row == null ? null : row.billingMode().wireName());
    details.put("count_credits", row == null ? null : row.countCredits());
    details.put("total_requests", totalRequests);
    details.put("count_balance", row == null ? null : row.countBalance());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("usage", usage);
    body.put("query_details", details);
    return body;
  }

  @Operation(summary = "Request counts and success rates by model, key, endpoint and hour (admin)")
  @GetMapping("/v1/stats")
  Map<String, Object> stats(
      HttpServletRequest request, @RequestParam(required = false) String hours) {
    keys.admin(request);
    Integer window = Params.optionalInt("hours", hours, 1, 720);
    int h = window == null ? 24 : window;
    Instant end = clock.instant();
    Instant start = end.minus(Duration.ofHours(h));
    ViewQueries.Stats stats = views.stats(start, end);
    long total = stats.byModel().stream().mapToLong(Count::requests).sum();
    long successes = stats.byModel().stream().mapToLong(Count::successes).sum();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("time_range", "Last " + h + " hours");
    body.put("start_datetime", Json.time(start));
    body.put("end_datetime", Json.time(end));
    body.put("total_requests", total);
    body.put("success_count", successes);
    body.put("success_rate", rate(successes, total));
    body.put("model_request_counts", counts("model", stats.byModel(), name -> name));
    body.put(
        "key_request_counts",
        counts("api_key_prefix", stats.byKey(), id -> KeyIds.displayPrefix(keys.rawKey(id))));
    body.put("endpoint_request_counts", counts("endpoint", stats.byEndpoint(), name -> name));
    body.put("hourly_request_counts", counts("hour", stats.byHour(), name -> name));
    return Map.of("stats", body);
  }

  private static List<Map<String, Object>> counts(
      String field, List<Count> counts, java.util.function.Function<String, String> name) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Count c : counts) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put(field, name.apply(c.name()));
      entry.put("count", c.requests());
      entry.put("success_count", c.successes());
      entry.put("success_rate", rate(c.successes(), c.requests()));
      out.add(entry);
    }
    return out;
  }

  /** A share as a plain decimal of four places, exact enough for a person and never a double. */
  private static BigDecimal rate(long part, long whole) {
    if (whole == 0) {
      return BigDecimal.ZERO;
    }
    return Json.amount(
        BigDecimal.valueOf(part)
            .divide(BigDecimal.valueOf(whole), 4, java.math.RoundingMode.HALF_EVEN));
  }
}
