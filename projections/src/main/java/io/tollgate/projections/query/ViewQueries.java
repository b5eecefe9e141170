package io.tollgate.projections.query;

import io.tollgate.projections.views.HistoryRow;
import io.tollgate.projections.views.JdbcViewStore;
import io.tollgate.projections.views.KeyStateRow;
import io.tollgate.projections.views.ViewBatch;
import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The read side's questions, answered from the views only: never from the event store, never by
 * scanning every charge.
 */
public class ViewQueries {

  /** A key's spending in its current period for one model and cost type. */
  public record PeriodUsage(
      String keyId,
      String model,
      String costType,
      long requestCount,
      long promptTokens,
      long completionTokens,
      BigDecimal cost) {}

  /** Usage of one key and model over a window. */
  public record ModelUsage(
      String keyId,
      String model,
      long promptTokens,
      long completionTokens,
      long requestCount,
      long failedCount,
      BigDecimal cost) {}

  /** Requests and successes of one group (a model, a key, an endpoint or an hour). */
  public record Count(String name, long requests, long successes) {}

  public record Stats(
      List<Count> byModel, List<Count> byKey, List<Count> byEndpoint, List<Count> byHour) {}

  private final JdbcTemplate jdbc;

  public ViewQueries(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  public List<KeyStateRow> keyStates() {
    return jdbc.query(
        "SELECT * FROM api_keys_states ORDER BY key_id", (rs, i) -> JdbcViewStore.keyRow(rs));
  }

  public Optional<KeyStateRow> keyState(String keyId) {
    return jdbc
        .query(
            "SELECT * FROM api_keys_states WHERE key_id = ?",
            (rs, i) -> JdbcViewStore.keyRow(rs),
            keyId)
        .stream()
        .findFirst();
  }

  /** Current-period usage of every key, or of one key when {@code keyId} is not null. */
  public List<PeriodUsage> periodUsage(String keyId) {
    String sql =
        "SELECT * FROM key_period_usage"
            + (keyId == null ? "" : " WHERE key_id = ?")
            + " ORDER BY key_id, model, cost_type";
    Object[] args = keyId == null ? new Object[0] : new Object[] {keyId};
    return jdbc.query(
        sql,
        (rs, i) ->
            new PeriodUsage(
                rs.getString("key_id"),
                rs.getString("model"),
                rs.getString("cost_type"),
                rs.getLong("request_count"),
                rs.getLong("prompt_tokens"),
                rs.getLong("completion_tokens"),
                rs.getBigDecimal("cost")),
        args);
  }

  /**
   * Usage by key and model in {@code [from, to)}, from the hourly buckets: an hour counts when it
   * starts inside the window, so windows are answered to the hour.
   */
  public List<ModelUsage> tokenUsage(String keyId, String model, Instant from, Instant to) {
    StringBuilder sql =
        new StringBuilder(
            "SELECT key_id, model, sum(prompt_tokens) p, sum(completion_tokens) c, sum(successes) s, "
                + "sum(requests) r, sum(cost) cost FROM token_usage WHERE bucket >= ? AND bucket < ?");
    List<Object> args = new ArrayList<>();
    args.add(Timestamp.from(from.truncatedTo(ChronoUnit.HOURS)));
    args.add(Timestamp.from(to));
    if (keyId != null) {
      sql.append(" AND key_id = ?");
      args.add(keyId);
    }
    if (model != null) {
      sql.append(" AND model = ?");
      args.add(model);
    }
    sql.append(" GROUP BY key_id, model ORDER BY key_id, model");
    return jdbc.query(
        sql.toString(),
        (rs, i) ->
            new ModelUsage(
                rs.getString("key_id"),
                rs.getString("model"),
                rs.getLong("p"),
                rs.getLong("c"),
                rs.getLong("s"),
                rs.getLong("r") - rs.getLong("s"),
                rs.getBigDecimal("cost")),
        args.toArray());
  }

  public Stats stats(Instant from, Instant to) {
    Object[] window = {Timestamp.from(from.truncatedTo(ChronoUnit.HOURS)), Timestamp.from(to)};
    return new Stats(
        counts("model", window),
        counts("key_id", window),
        counts("endpoint", window),
        counts("to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00:00\"Z\"')", window));
  }

  private List<Count> counts(String group, Object[] window) {
    return jdbc.query(
        "SELECT "
            + group
            + " g, sum(requests) r, sum(successes) s FROM token_usage "
            + "WHERE bucket >= ? AND bucket < ? GROUP BY g ORDER BY g",
        (rs, i) -> new Count(rs.getString("g"), rs.getLong("r"), rs.getLong("s")),
        window);
  }

  /**
   * A key's billing history, newest first.
   *
   * @param before only events with a global index below it (the cursor), or null from the newest
   * @param from only events recorded at or after it, or null
   * @param to only events recorded before it, or null
   */
  public List<HistoryRow> history(String keyId, Long before, Instant from, Instant to, int limit) {
    StringBuilder sql = new StringBuilder("SELECT * FROM billing_history WHERE key_id = ?");
    List<Object> args = new ArrayList<>();
    args.add(keyId);
    if (before != null) {
      sql.append(" AND global_index < ?");
      args.add(before);
    }
    if (from != null) {
      sql.append(" AND at >= ?");
      args.add(Timestamp.from(from));
    }
    if (to != null) {
      sql.append(" AND at < ?");
      args.add(Timestamp.from(to));
    }
    sql.append(" ORDER BY global_index DESC LIMIT ?");
    args.add(limit);
    return jdbc.query(sql.toString(), (rs, i) -> historyRow(rs), args.toArray());
  }

  /**
   * Keys whose {@code api_keys_states} row does not reconcile with their billing history: the
   * period's spending must equal the sum of its charges and corrections since the last period
   * start, and the row's balances must equal those of the key's newest history row.
   *
   * @return one sentence per disagreement; empty when every key reconciles
   */
  public List<String> inconsistencies() {
    return jdbc
        .query(
            """
        WITH period AS (
          SELECT key_id, coalesce(max(global_index) FILTER (WHERE event_type = 'billing_period_started'), 0) AS since
          FROM billing_history GROUP BY key_id),
        spent AS (
          SELECT h.key_id,
                 coalesce(sum(h.usd) FILTER (WHERE h.event_type = 'request_charged' AND h.in_period), 0)
                   + coalesce(sum(h.usd) FILTER (WHERE h.event_type = 'charge_corrected'), 0) AS usd,
                 coalesce(sum(h.requests) FILTER (WHERE h.event_type = 'request_charged' AND h.in_period), 0)
                   + coalesce(sum(h.requests) FILTER (WHERE h.event_type = 'charge_corrected'), 0) AS requests
          FROM billing_history h JOIN period p ON p.key_id = h.key_id AND h.global_index > p.since
          GROUP BY h.key_id),
        newest AS (
          SELECT DISTINCT ON (key_id) * FROM billing_history ORDER BY key_id, global_index DESC)
        SELECT s.key_id, s.spent_usd, s.spent_requests, coalesce(sp.usd, 0) AS history_usd,
               coalesce(sp.requests, 0) AS history_requests, n.credits_after, n.count_credits_after,
               s.credits, s.count_credits,
               (SELECT coalesce(sum(cost), 0) FROM key_period_usage u WHERE u.key_id = s.key_id) AS detail_usd
        FROM api_keys_states s
        LEFT JOIN spent sp ON sp.key_id = s.key_id
        LEFT JOIN newest n ON n.key_id = s.key_id
        """,
            (rs, i) -> disagreement(rs))
        .stream()
        .filter(m -> m != null)
        .toList();
  }

  private static String disagreement(ResultSet rs) throws SQLException {
    String key = rs.getString("key_id");
    BigDecimal spent = rs.getBigDecimal("spent_usd");
    BigDecimal history = rs.getBigDecimal("history_usd");
    if (spent.compareTo(history) != 0) {
      return key
          + ": total_cost "
          + spent.toPlainString()
          + " but its history sums to "
          + history.toPlainString();
    }
    if (spent.compareTo(rs.getBigDecimal("detail_usd")) != 0) {
      return key
          + ": total_cost "
          + spent.toPlainString()
          + " but its cost details sum to "
          + rs.getBigDecimal("detail_usd").toPlainString();
    }
    if (rs.getLong("spent_requests") != rs.getLong("history_requests")) {
      return key
          + ": spent "
          + rs.getLong("spent_requests")
          + " requests but its history sums to "
          + rs.getLong("history_requests");
    }
    BigDecimal creditsAfter = rs.getBigDecimal("credits_after");
    if (creditsAfter == null
        || creditsAfter.compareTo(rs.getBigDecimal("credits")) != 0
        || rs.getLong("count_credits_after") != rs.getLong("count_credits")) {
      return key
          + ": grants "
          + rs.getBigDecimal("credits")
          + "/"
          + rs.getLong("count_credits")
          + " differ from its newest history row";
    }
    return null;
  }

  static HistoryRow historyRow(ResultSet rs) throws SQLException {
    return new HistoryRow(
        rs.getLong("global_index"),
        rs.getString("key_id"),
        instant(rs, "at"),
        rs.getString("event_type"),
        rs.getString("origin"),
        rs.getString("request_id"),
        rs.getString("model"),
        rs.getString("endpoint"),
        rs.getString("provider"),
        instant(rs, "completed_at"),
        rs.getString("billing_mode"),
        rs.getString("cost_type"),
        nullableLong(rs, "prompt_tokens"),
        nullableLong(rs, "completion_tokens"),
        nullableBoolean(rs, "estimated"),
        nullableBoolean(rs, "in_period"),
        (Integer) rs.getObject("http_status"),
        rs.getBigDecimal("usd"),
        nullableLong(rs, "requests"),
        rs.getString("price_version"),
        rs.getBigDecimal("token_price_prompt"),
        rs.getBigDecimal("token_price_completion"),
        rs.getBigDecimal("count_price"),
        rs.getString("reason"),
        rs.getBigDecimal("credits_after"),
        rs.getLong("count_credits_after"),
        rs.getBigDecimal("spent_usd_after"),
        rs.getLong("spent_requests_after"),
        instant(rs, "period_start_after"));
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    Timestamp t = rs.getTimestamp(column);
    return t == null ? null : t.toInstant();
  }

  private static Long nullableLong(ResultSet rs, String column) throws SQLException {
    long value = rs.getLong(column);
    return rs.wasNull() ? null : value;
  }

  private static Boolean nullableBoolean(ResultSet rs, String column) throws SQLException {
    boolean value = rs.getBoolean(column);
    return rs.wasNull() ? null : value;
  }

  /** The model name under which corrections appear in a key's cost details. */
  public static String correctionModel() {
    return ViewBatch.CORRECTION;
  }
}
