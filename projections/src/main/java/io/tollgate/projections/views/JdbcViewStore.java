package io.tollgate.projections.views;

import io.tollgate.config.BillingMode;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Reads and writes the view tables for the views processor, on the connection of the processor's
 * transaction, so a batch's rows and the processor's token commit together or not at all.
 *
 * <p>History rows go in with PostgreSQL's COPY and the summaries as multi-row upserts: a rebuild
 * writes a million history rows, and per-row INSERTs would cap it far below the events' rate.
 */
public class JdbcViewStore {

  private static final Logger log = LoggerFactory.getLogger(JdbcViewStore.class);

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
    batch.resolve(globalIndexes(batch.unresolvedIds()));
    Map<String, KeyStateRow> current = load(batch.keyIds());
    batch.fold(current::get);
    if (batch.skipped() > 0) {
      log.info("{} events delivered again were already in the views; passed over", batch.skipped());
    }
    writeKeys(batch);
    writePeriodUsage(batch);
    writeBuckets(batch);
    copyHistory(batch.history());
  }

  /**
   * Writes the key rows and period usage a whole replay folded in memory into the empty tables
   * named with {@code prefix}, with COPY: the counterpart of {@link #write} for a rebuild, where
   * nothing is stored yet to upsert onto. Tells {@code filled} each table's name (without the
   * prefix) once its rows are in. The rebuild groups {@code token_usage} from the history itself.
   */
  void copySummaries(ViewBatch batch, String prefix, Consumer<String> filled) {
    try (BinaryCopy copy =
        new BinaryCopy(dataSource, prefix + "api_keys_states (" + KEY_COLUMNS + ")")) {
      for (KeyStateRow r : batch.keyRows()) {
        copy.row(11)
            .text(r.keyId())
            .text(r.billingMode().name())
            .numeric(r.credits())
            .int8(r.countCredits())
            .timestamptz(r.periodStart())
            .bool(r.enabled())
            .numeric(r.spentUsd())
            .int8(r.spentRequests())
            .timestamptz(r.registeredAt())
            .timestamptz(r.lastEventAt())
            .int8(r.lastGlobalIndex());
      }
      copy.finish();
    }
    filled.accept("api_keys_states");
    try (BinaryCopy copy =
        new BinaryCopy(
            dataSource,
            prefix
                + "key_period_usage (key_id, model, cost_type, request_count, prompt_tokens, "
                + "completion_tokens, cost)")) {
      batch
          .periodUsage()
          .forEach(
              (k, d) ->
                  copy.row(7)
                      .text(k.keyId())
                      .text(k.model())
                      .text(k.costType())
                      .int8(d.requests())
                      .int8(d.promptTokens())
                      .int8(d.completionTokens())
                      .numeric(d.cost()));
      copy.finish();
    }
    filled.accept("key_period_usage");
  }

  /** Empties every view, for a rebuild. */
  public void truncate() {
    jdbc.execute("TRUNCATE api_keys_states, key_period_usage, token_usage, billing_history");
  }

  /**
   * The global indexes of the given events, read from the event store in one query by their unique
   * identifiers.
   */
  Map<String, Long> globalIndexes(Set<String> eventIds) {
    Map<String, Long> indexes = new HashMap<>();
    if (eventIds.isEmpty()) {
      return indexes;
    }
    jdbc.query(
        connection -> {
          var statement =
              connection.prepareStatement(
                  "SELECT event_identifier, global_index FROM domain_event_entry"
                      + " WHERE event_identifier = ANY (?)");
          statement.setArray(1, connection.createArrayOf("varchar", eventIds.toArray()));
          return statement;
        },
        rs -> {
          indexes.put(rs.getString(1), rs.getLong(2));
        });
    return indexes;
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
    try (BinaryCopy copy = historyCopy("")) {
      for (HistoryRow r : rows) {
        history(copy, r);
      }
      copy.finish();
    }
  }

  /** A COPY into the billing history named with {@code prefix}. */
  BinaryCopy historyCopy(String prefix) {
    return new BinaryCopy(dataSource, prefix + "billing_history (" + HISTORY_COLUMNS + ")");
  }

  /** One billing history row, in {@link #HISTORY_COLUMNS}' order. */
  static void history(BinaryCopy copy, HistoryRow r) {
    copy.row(29)
        .int8(r.globalIndex())
        .text(r.keyId())
        .timestamptz(r.at())
        .text(r.eventType())
        .text(r.origin())
        .text(r.requestId())
        .text(r.model())
        .text(r.endpoint())
        .text(r.provider())
        .timestamptz(r.completedAt())
        .text(r.billingMode())
        .text(r.costType())
        .int8(r.promptTokens())
        .int8(r.completionTokens())
        .bool(r.estimated())
        .bool(r.inPeriod())
        .int4(r.httpStatus())
        .numeric(r.usd())
        .int8(r.requests())
        .text(r.priceVersion())
        .numeric(r.tokenPricePrompt())
        .numeric(r.tokenPriceCompletion())
        .numeric(r.countPrice())
        .text(r.reason())
        .numeric(r.creditsAfter())
        .int8(r.countCreditsAfter())
        .numeric(r.spentUsdAfter())
        .int8(r.spentRequestsAfter())
        .timestamptz(r.periodStartAfter());
  }
}
