package io.tollgate.projections.views;

import io.tollgate.config.BillingMode;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Reads and writes the view tables for the views processor, on the connection of the processor's
 * transaction, so a batch's rows and the processor's token commit together or not at all.
 *
 * <p>History rows go in with PostgreSQL's COPY and the summaries as multi-row upserts: a rebuild
 * writes a million history rows, and per-row INSERTs would cap it far below the events' rate.
 */
public class JdbcViewStore {

  static final String KEY_COLUMNS =
      "key_id, billing_mode, credits, count_credits, period_start, enabled, spent_usd, spent_requests, "
          + "registered_at, last_event_at, last_global_index";

  static final String HISTORY_COLUMNS =
      "global_index, key_id, at, event_type, origin, request_id, model, endpoint, provider, completed_at, "
          + "billing_mode, cost_type, prompt_tokens, completion_tokens, estimated, in_period, http_status, usd, "
          + "requests, price_version, token_price_prompt, token_price_completion, count_price, reason, "
          + "credits_after, count_credits_after, spent_usd_after, spent_requests_after, period_start_after";

  private final JdbcTemplate jdbc;
  private final DataSource dataSource;

  public JdbcViewStore(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
    this.dataSource = jdbc.getDataSource();
  }

  /** Folds {@code batch} onto the stored rows and writes every view's changes. */
  public void write(ViewBatch batch) {
    if (batch.isEmpty()) {
      return;
    }
    Map<String, KeyStateRow> current = load(batch.keyIds());
    batch.fold(current::get);
    writeKeys(batch);
    writePeriodUsage(batch);
    writeBuckets(batch);
    copyHistory(batch.history());
  }

  /**
   * Writes the summaries a whole replay folded in memory into empty tables with COPY: the
   * counterpart of {@link #write} for a rebuild, where nothing is stored yet to upsert onto.
   */
  public void copySummaries(ViewBatch batch) {
    copySummaries(batch, "", table -> {});
  }

  /**
   * {@link #copySummaries(ViewBatch)} into the tables named with {@code prefix}, telling {@code
   * filled} each table's name (without the prefix) once its rows are in.
   */
  void copySummaries(ViewBatch batch, String prefix, Consumer<String> filled) {
    try (CsvCopy copy = new CsvCopy(dataSource, prefix + "api_keys_states (" + KEY_COLUMNS + ")")) {
      for (KeyStateRow r : batch.keyRows()) {
        row(
            copy,
            r.keyId(),
            r.billingMode().name(),
            r.credits(),
            r.countCredits(),
            r.periodStart(),
            r.enabled(),
            r.spentUsd(),
            r.spentRequests(),
            r.registeredAt(),
            r.lastEventAt(),
            r.lastGlobalIndex());
      }
      copy.finish();
    }
    filled.accept("api_keys_states");
    try (CsvCopy copy =
        new CsvCopy(
            dataSource,
            prefix
                + "key_period_usage (key_id, model, cost_type, request_count, prompt_tokens, "
                + "completion_tokens, cost)")) {
      batch
          .periodUsage()
          .forEach(
              (k, d) ->
                  row(
                      copy,
                      k.keyId(),
                      k.model(),
                      k.costType(),
                      d.requests(),
                      d.promptTokens(),
                      d.completionTokens(),
                      d.cost()));
      copy.finish();
    }
    filled.accept("key_period_usage");
    try (CsvCopy copy =
        new CsvCopy(
            dataSource,
            prefix
                + "token_usage (bucket, key_id, model, endpoint, requests, successes, "
                + "prompt_tokens, completion_tokens, cost)")) {
      batch
          .buckets()
          .forEach(
              (k, d) ->
                  row(
                      copy,
                      k.bucket(),
                      k.keyId(),
                      k.model(),
                      k.endpoint(),
                      d.requests(),
                      d.successes(),
                      d.promptTokens(),
                      d.completionTokens(),
                      d.cost()));
      copy.finish();
    }
    filled.accept("token_usage");
  }

  private static void row(CsvCopy copy, Object... values) {
    StringBuilder csv = copy.csv();
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        csv.append(',');
      }
      appendCsv(csv, values[i]);
    }
    copy.endRow();
  }

  /** Empties every view, for a rebuild. */
  public void truncate() {
    jdbc.execute("TRUNCATE api_keys_states, key_period_usage, token_usage, billing_history");
  }

  Map<String, KeyStateRow> load(Set<String> keyIds) {
    Map<String, KeyStateRow> rows = new HashMap<>();
    jdbc.query(
        connection -> {
          var statement =
              connection.prepareStatement(
                  "SELECT " + KEY_COLUMNS + " FROM api_keys_states WHERE key_id = ANY (?)");
          Array ids = connection.createArrayOf("varchar", keyIds.toArray());
          statement.setArray(1, ids);
          return statement;
        },
        rs -> {
          KeyStateRow row = keyRow(rs);
          rows.put(row.keyId(), row);
        });
    return rows;
  }

  public static KeyStateRow keyRow(ResultSet rs) throws SQLException {
    return new KeyStateRow(
        rs.getString("key_id"),
        BillingMode.valueOf(rs.getString("billing_mode")),
        rs.getBigDecimal("credits"),
        rs.getLong("count_credits"),
        instant(rs.getTimestamp("period_start")),
        rs.getBoolean("enabled"),
        rs.getBigDecimal("spent_usd"),
        rs.getLong("spent_requests"),
        instant(rs.getTimestamp("registered_at")),
        instant(rs.getTimestamp("last_event_at")),
        rs.getLong("last_global_index"));
  }

  static Instant instant(Timestamp timestamp) {
    return timestamp == null ? null : timestamp.toInstant();
  }

  private static Timestamp timestamp(Instant instant) {
    return instant == null ? null : Timestamp.from(instant);
  }

  private void writeKeys(ViewBatch batch) {
    List<Object[]> rows = new ArrayList<>();
    for (KeyStateRow r : batch.keyRows()) {
      rows.add(
          new Object[] {
            r.keyId(),
            r.billingMode().name(),
            r.credits(),
            r.countCredits(),
            timestamp(r.periodStart()),
            r.enabled(),
            r.spentUsd(),
            r.spentRequests(),
            timestamp(r.registeredAt()),
            timestamp(r.lastEventAt()),
            r.lastGlobalIndex()
          });
    }
    upsert(
        "INSERT INTO api_keys_states ("
            + KEY_COLUMNS
            + ") SELECT * FROM unnest(?::varchar[], ?::varchar[], "
            + "?::numeric[], ?::bigint[], ?::timestamptz[], ?::boolean[], ?::numeric[], ?::bigint[], "
            + "?::timestamptz[], ?::timestamptz[], ?::bigint[]) "
            + "ON CONFLICT (key_id) DO UPDATE SET billing_mode = excluded.billing_mode, "
            + "credits = excluded.credits, count_credits = excluded.count_credits, "
            + "period_start = excluded.period_start, enabled = excluded.enabled, "
            + "spent_usd = excluded.spent_usd, spent_requests = excluded.spent_requests, "
            + "last_event_at = excluded.last_event_at, last_global_index = excluded.last_global_index",
        new String[] {
          "varchar",
          "varchar",
          "numeric",
          "int8",
          "timestamptz",
          "bool",
          "numeric",
          "int8",
          "timestamptz",
          "timestamptz",
          "int8"
        },
        rows);
  }

  private void writePeriodUsage(ViewBatch batch) {
    if (!batch.periodResets().isEmpty()) {
      jdbc.update(
          connection -> {
            var statement =
                connection.prepareStatement("DELETE FROM key_period_usage WHERE key_id = ANY (?)");
            statement.setArray(
                1, connection.createArrayOf("varchar", batch.periodResets().toArray()));
            return statement;
          });
    }
    List<Object[]> rows = new ArrayList<>();
    batch
        .periodUsage()
        .forEach(
            (k, d) ->
                rows.add(
                    new Object[] {
                      k.keyId(),
                      k.model(),
                      k.costType(),
                      d.requests(),
                      d.promptTokens(),
                      d.completionTokens(),
                      d.cost()
                    }));
    upsert(
        "INSERT INTO key_period_usage (key_id, model, cost_type, request_count, prompt_tokens, "
            + "completion_tokens, cost) SELECT * FROM unnest(?::varchar[], ?::varchar[], ?::varchar[], "
            + "?::bigint[], ?::bigint[], ?::bigint[], ?::numeric[]) ON CONFLICT (key_id, model, cost_type) "
            + "DO UPDATE SET request_count = key_period_usage.request_count + excluded.request_count, "
            + "prompt_tokens = key_period_usage.prompt_tokens + excluded.prompt_tokens, "
            + "completion_tokens = key_period_usage.completion_tokens + excluded.completion_tokens, "
            + "cost = key_period_usage.cost + excluded.cost",
        new String[] {"varchar", "varchar", "varchar", "int8", "int8", "int8", "numeric"},
        rows);
  }

  private void writeBuckets(ViewBatch batch) {
    List<Object[]> rows = new ArrayList<>();
    batch
        .buckets()
        .forEach(
            (k, d) ->
                rows.add(
                    new Object[] {
                      timestamp(k.bucket()),
                      k.keyId(),
                      k.model(),
                      k.endpoint(),
                      d.requests(),
                      d.successes(),
                      d.promptTokens(),
                      d.completionTokens(),
                      d.cost()
                    }));
    upsert(
        "INSERT INTO token_usage (bucket, key_id, model, endpoint, requests, successes, prompt_tokens, "
            + "completion_tokens, cost) SELECT * FROM unnest(?::timestamptz[], ?::varchar[], ?::varchar[], "
            + "?::varchar[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::numeric[]) "
            + "ON CONFLICT (bucket, key_id, model, endpoint) DO UPDATE SET "
            + "requests = token_usage.requests + excluded.requests, "
            + "successes = token_usage.successes + excluded.successes, "
            + "prompt_tokens = token_usage.prompt_tokens + excluded.prompt_tokens, "
            + "completion_tokens = token_usage.completion_tokens + excluded.completion_tokens, "
            + "cost = token_usage.cost + excluded.cost",
        new String[] {
          "timestamptz", "varchar", "varchar", "varchar", "int8", "int8", "int8", "int8", "numeric"
        },
        rows);
  }

  /**
   * One statement for all rows: each column travels as an array and {@code unnest} turns them back
   * into rows, so a batch of a thousand upserts costs one round trip, not a thousand.
   */
  private void upsert(String sql, String[] types, List<Object[]> rows) {
    if (rows.isEmpty()) {
      return;
    }
    jdbc.update(
        connection -> {
          var statement = connection.prepareStatement(sql);
          for (int column = 0; column < types.length; column++) {
            Object[] values = new Object[rows.size()];
            for (int row = 0; row < rows.size(); row++) {
              values[row] = rows.get(row)[column];
            }
            statement.setArray(column + 1, connection.createArrayOf(types[column], values));
          }
          return statement;
        });
  }

  public void copyHistory(List<HistoryRow> rows) {
    if (rows.isEmpty()) {
      return;
    }
    try (CsvCopy copy = historyCopy("")) {
      for (HistoryRow r : rows) {
        historyCsv(copy.csv(), r);
        copy.endRow();
      }
      copy.finish();
    }
  }

  /** A COPY into the billing history named with {@code prefix}. */
  CsvCopy historyCopy(String prefix) {
    return new CsvCopy(dataSource, prefix + "billing_history (" + HISTORY_COLUMNS + ")");
  }

  /**
   * One billing history row as COPY's CSV (without the line's end), in {@link #HISTORY_COLUMNS}'
   * order.
   */
  static void historyCsv(StringBuilder csv, HistoryRow r) {
    Object[] values = {
      r.globalIndex(),
      r.keyId(),
      r.at(),
      r.eventType(),
      r.origin(),
      r.requestId(),
      r.model(),
      r.endpoint(),
      r.provider(),
      r.completedAt(),
      r.billingMode(),
      r.costType(),
      r.promptTokens(),
      r.completionTokens(),
      r.estimated(),
      r.inPeriod(),
      r.httpStatus(),
      r.usd(),
      r.requests(),
      r.priceVersion(),
      r.tokenPricePrompt(),
      r.tokenPriceCompletion(),
      r.countPrice(),
      r.reason(),
      r.creditsAfter(),
      r.countCreditsAfter(),
      r.spentUsdAfter(),
      r.spentRequestsAfter(),
      r.periodStartAfter()
    };
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        csv.append(',');
      }
      appendCsv(csv, values[i]);
    }
  }

  /**
   * {@code instant} in ISO 8601 as PostgreSQL reads it ({@code 2026-11-28T04:17:42.675123000Z}),
   * written by hand: {@link Instant#toString()} goes through a {@code DateTimeFormatter}, which was
   * a tenth of a rebuild's time.
   */
  static void appendInstant(StringBuilder csv, Instant instant) {
    long seconds = instant.getEpochSecond();
    LocalDate day = LocalDate.ofEpochDay(Math.floorDiv(seconds, 86_400));
    int secondOfDay = (int) Math.floorMod(seconds, 86_400);
    if (day.getYear() < 1000 || day.getYear() > 9999) {
      csv.append(instant); // outside four-digit years: the general formatter
      return;
    }
    csv.append(day.getYear()).append('-');
    pad(csv, day.getMonthValue(), 2).append('-');
    pad(csv, day.getDayOfMonth(), 2).append('T');
    pad(csv, secondOfDay / 3_600, 2).append(':');
    pad(csv, secondOfDay / 60 % 60, 2).append(':');
    pad(csv, secondOfDay % 60, 2);
    if (instant.getNano() != 0) {
      pad(csv.append('.'), instant.getNano(), 9);
    }
    csv.append('Z');
  }

  private static final int[] POWERS_OF_TEN = {
    1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000
  };

  /** {@code value} (not negative) with leading zeros to {@code width} digits. */
  private static StringBuilder pad(StringBuilder csv, int value, int width) {
    for (int bound = POWERS_OF_TEN[width - 1]; bound > 1 && value < bound; bound /= 10) {
      csv.append('0');
    }
    return csv.append(value);
  }

  /** CSV as COPY reads it: an unquoted empty field is NULL, a quoted one is text. */
  static void appendCsv(StringBuilder csv, Object value) {
    if (value == null) {
      return;
    }
    if (value instanceof Long number) {
      csv.append(number.longValue()); // append(Object) would make a String first
    } else if (value instanceof BigDecimal decimal) {
      csv.append(decimal.toPlainString());
    } else if (value instanceof Integer number) {
      csv.append(number.intValue());
    } else if (value instanceof Boolean flag) {
      csv.append(flag.booleanValue());
    } else if (value instanceof Instant instant) {
      appendInstant(csv, instant);
    } else if (value instanceof String text) {
      csv.append('"').append(text.replace("\"", "\"\"")).append('"');
    } else {
      csv.append(value);
    }
  }
}
