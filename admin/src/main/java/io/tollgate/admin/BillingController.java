package io.tollgate.admin;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import io.tollgate.projections.query.ViewQueries;
import io.tollgate.projections.status.ViewRebuild;
import io.tollgate.projections.views.HistoryRow;
import jakarta.servlet.http.HttpServletRequest;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Tollgate's extensions under {@code /v1/billing}: the audit trail, its reconciliation, rebuild.
 */
@RestController
@ConditionalOnExpression("${tollgate.admin.enabled:true} and ${tollgate.projections.enabled:true}")
@Tag(name = "billing", description = "Tollgate extensions: history, reconciliation, rebuild")
class BillingController {

  private static final int MAX_PAGE = 1000;
  private static final int CSV_PAGE = 10_000;

  private static final String[] COLUMNS = {
    "global_index",
    "at",
    "event_type",
    "origin",
    "request_id",
    "model",
    "endpoint",
    "provider",
    "completed_at",
    "billing_mode",
    "cost_type",
    "prompt_tokens",
    "completion_tokens",
    "estimated",
    "in_period",
    "http_status",
    "usd",
    "requests",
    "price_version",
    "token_price_prompt",
    "token_price_completion",
    "count_price",
    "reason",
    "credits_after",
    "count_credits_after",
    "total_cost_after",
    "used_count_credits_after",
    "balance_after",
    "count_balance_after",
    "period_start_after"
  };

  private final ApiKeys keys;
  private final ViewQueries views;
  private final ViewRebuild rebuild;

  BillingController(ApiKeys keys, ViewQueries views, ViewRebuild rebuild) {
    this.keys = keys;
    this.views = views;
    this.rebuild = rebuild;
  }

  @Operation(
      summary =
          "A key's billing history, newest first (admin, or the key itself); CSV with Accept: text/csv")
  @GetMapping(
      value = "/v1/billing/history",
      produces = {MediaType.APPLICATION_JSON_VALUE, "text/csv"})
  ResponseEntity<?> history(
      HttpServletRequest request,
      @RequestHeader(name = "Accept", required = false) String accept,
      @Parameter(description = "the key; a user key may name only itself and may leave it out")
          @RequestParam(name = "paid_key", required = false)
          String paidKey,
      @Parameter(description = "next_cursor of the previous page") @RequestParam(required = false)
          String cursor,
      @RequestParam(required = false) String limit,
      @RequestParam(name = "start_datetime", required = false) String startText,
      @RequestParam(name = "end_datetime", required = false) String endText) {
    ApiKeys.Caller caller = keys.caller(request);
    String keyId;
    if (caller.isAdmin()) {
      keyId = keys.keyIdOf("paid_key", paidKey);
    } else {
      if (paidKey != null
          && !paidKey.isBlank()
          && !keys.keyIdOf("paid_key", paidKey).equals(caller.keyId())) {
        throw ApiError.forbidden("A user key may read only its own billing history.");
      }
      keyId = caller.keyId();
    }
    Long before = null;
    if (cursor != null && !cursor.isBlank()) {
      try {
        before = Long.parseLong(cursor.trim());
      } catch (NumberFormatException e) {
        throw ApiError.badParameter(
            "cursor", "Parameter 'cursor' must be a next_cursor value, got '" + cursor + "'.");
      }
    }
    Instant from = Params.time("start_datetime", startText, false);
    Instant to = Params.time("end_datetime", endText, true);
    if (from != null && to != null && to.isBefore(from)) {
      throw ApiError.badParameter(
          "end_datetime", "Parameter 'end_datetime' is before 'start_datetime'.");
    }
    boolean csv = accept != null && accept.contains("text/csv");
    if (csv) {
      return ResponseEntity.ok()
          .contentType(new MediaType("text", "csv", java.nio.charset.StandardCharsets.UTF_8))
          .header("Content-Disposition", "attachment; filename=\"billing-history.csv\"")
          .body(csv(keyId, before, from, to));
    }
    Integer size = Params.optionalInt("limit", limit, 1, MAX_PAGE);
    int pageSize = size == null ? 100 : size;
    List<HistoryRow> rows = views.history(keyId, before, from, to, pageSize);
    List<Map<String, Object>> entries = new ArrayList<>();
    for (HistoryRow row : rows) {
      Map<String, Object> entry = new LinkedHashMap<>();
      Object[] values = values(row);
      for (int i = 0; i < COLUMNS.length; i++) {
        entry.put(COLUMNS[i], values[i]);
      }
      entries.add(entry);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("paid_key", keys.rawKey(keyId));
    body.put("history", entries);
    body.put(
        "next_cursor", rows.size() == pageSize ? rows.get(rows.size() - 1).globalIndex() : null);
    return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(body);
  }

  private String csv(String keyId, Long before, Instant from, Instant to) {
    StringBuilder out = new StringBuilder(String.join(",", COLUMNS)).append('\n');
    Long cursor = before;
    while (true) {
      List<HistoryRow> rows = views.history(keyId, cursor, from, to, CSV_PAGE);
      for (HistoryRow row : rows) {
        Object[] values = values(row);
        for (int i = 0; i < values.length; i++) {
          if (i > 0) {
            out.append(',');
          }
          Object v = values[i];
          if (v instanceof BigDecimal d) {
            out.append(d.toPlainString());
          } else if (v != null) {
            String text = v.toString();
            boolean quote =
                text.indexOf(',') >= 0 || text.indexOf('"') >= 0 || text.indexOf('\n') >= 0;
            out.append(quote ? '"' + text.replace("\"", "\"\"") + '"' : text);
          }
        }
        out.append('\n');
      }
      if (rows.size() < CSV_PAGE) {
        return out.toString();
      }
      cursor = rows.get(rows.size() - 1).globalIndex();
    }
  }

  private static Object[] values(HistoryRow r) {
    return new Object[] {
      r.globalIndex(),
      Json.time(r.at()),
      r.eventType(),
      r.origin(),
      r.requestId(),
      r.model(),
      r.endpoint(),
      r.provider(),
      Json.time(r.completedAt()),
      r.billingMode(),
      r.costType(),
      r.promptTokens(),
      r.completionTokens(),
      r.estimated(),
      r.inPeriod(),
      r.httpStatus(),
      Json.amount(r.usd()),
      r.requests(),
      r.priceVersion(),
      Json.amount(r.tokenPricePrompt()),
      Json.amount(r.tokenPriceCompletion()),
      Json.amount(r.countPrice()),
      r.reason(),
      Json.amount(r.creditsAfter()),
      r.countCreditsAfter(),
      Json.amount(r.spentUsdAfter()),
      r.spentRequestsAfter(),
      Json.amount(r.balanceAfter()),
      r.countBalanceAfter(),
      Json.time(r.periodStartAfter())
    };
  }

  @Operation(
      summary =
          "Keys whose api_keys_states row does not reconcile with their history (admin); empty when all do")
  @GetMapping("/v1/billing/consistency")
  Map<String, Object> consistency(HttpServletRequest request) {
    keys.admin(request);
    List<String> problems = views.inconsistencies();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("consistent", problems.isEmpty());
    body.put("problems", problems);
    return body;
  }

  @Operation(summary = "Rebuild every view from the event store (admin); 409 while one runs")
  @PostMapping("/v1/billing/rebuild")
  ResponseEntity<Map<String, Object>> startRebuild(HttpServletRequest request) {
    keys.admin(request);
    if (!rebuild.start()) {
      throw ApiError.conflict(null, "A rebuild is already running.");
    }
    Map<String, Object> body = progress();
    body.put("message", "Rebuilding every view from the event store");
    return ResponseEntity.status(HttpStatus.ACCEPTED).body(body);
  }

  @Operation(summary = "Progress of the current or last rebuild (admin)")
  @GetMapping("/v1/billing/rebuild")
  Map<String, Object> rebuildProgress(HttpServletRequest request) {
    keys.admin(request);
    return progress();
  }

  private Map<String, Object> progress() {
    ViewRebuild.Progress p = rebuild.progress();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("running", p.running());
    body.put("started_at", Json.time(p.startedAt()));
    body.put("finished_at", Json.time(p.finishedAt()));
    body.put("events_done", p.eventsDone());
    body.put("events_total", p.eventsTotal());
    body.put("events_per_second", BigDecimal.valueOf(p.eventsPerSecond()));
    body.put("seconds_left", p.secondsLeft());
    body.put("error", p.error());
    return body;
  }
}
