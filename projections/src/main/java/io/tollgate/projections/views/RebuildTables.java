package io.tollgate.projections.views;

import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A rebuild's views, written into fresh tables beside the live ones ({@code
 * rebuild_billing_history} and so on) and swapped in at the end. Readers keep the old views until
 * the swap commits, and a rebuild that fails drops the fresh tables and leaves the live ones as
 * they were.
 *
 * <p>The fresh tables start bare: a bulk COPY into a table without indexes, then one sorted build
 * of each index, costs far less than a million random index insertions. They are filled and indexed
 * in their own short transactions, so that the indexes of one table are built on other connections
 * while the next table is being written; only the swap runs in the caller's transaction. The
 * indexes and constraints are read from the live tables' catalog, so they follow whatever the
 * migrations made, under the same names.
 */
public final class RebuildTables implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RebuildTables.class);

  static final List<String> TABLES =
      List.of("api_keys_states", "key_period_usage", "token_usage", "billing_history");

  private static final String PREFIX = "rebuild_";
  private static final Pattern INDEX_DEF =
      Pattern.compile("^CREATE (UNIQUE )?INDEX (\\S+) ON (\\S+) (.*)$");
  private static final Pattern MEMORY = Pattern.compile("\\d+(kB|MB|GB)");

  /** A constraint or index of a live table, and how to make it on the fresh one. */
  private record Ddl(String table, String name, String create, String rename) {}

  private final JdbcTemplate jdbc;
  private final JdbcViewStore store;
  private final String indexMemory;
  private final List<Ddl> ddl = new ArrayList<>();
  private final ExecutorService indexers;
  private final List<Future<?>> indexing = new ArrayList<>();
  private boolean swapped;

  /**
   * Drops what an interrupted rebuild left behind and creates the bare tables. Call outside a
   * transaction.
   *
   * @param indexMemory PostgreSQL's {@code maintenance_work_mem} for the index builds ({@code
   *     512MB}): the server's default of 64 MB sorts a million history keys on disk
   * @param indexThreads how many index builds and aggregations run at once: enough that both of
   *     PostgreSQL's cores always have one to run, whichever finishes first
   */
  public RebuildTables(
      JdbcTemplate jdbc, JdbcViewStore store, String indexMemory, int indexThreads) {
    if (!MEMORY.matcher(indexMemory).matches()) {
      throw new IllegalArgumentException(
          "tollgate.projections.rebuild-index-memory must be a size such as 512MB, got "
              + indexMemory);
    }
    this.jdbc = jdbc;
    this.store = store;
    this.indexMemory = indexMemory;
    for (String table : TABLES) {
      readDefinitions(table);
      jdbc.execute("DROP TABLE IF EXISTS " + PREFIX + table);
      jdbc.execute(
          "CREATE TABLE "
              + PREFIX
              + table
              + " (LIKE "
              + table
              + " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)");
    }
    this.indexers =
        Executors.newFixedThreadPool(
            indexThreads,
            r -> {
              Thread thread = new Thread(r, "views-rebuild-index");
              thread.setDaemon(true);
              return thread;
            });
  }

  private void readDefinitions(String table) {
    jdbc.query(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            + "WHERE conrelid = ?::regclass AND contype IN ('p', 'u') ORDER BY conname",
        rs -> {
          String name = rs.getString(1);
          ddl.add(
              new Ddl(
                  table,
                  name,
                  "ALTER TABLE "
                      + PREFIX
                      + table
                      + " ADD CONSTRAINT "
                      + PREFIX
                      + name
                      + " "
                      + rs.getString(2),
                  "ALTER TABLE " + table + " RENAME CONSTRAINT " + PREFIX + name + " TO " + name));
        },
        table);
    jdbc.query(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            + "WHERE i.indrelid = ?::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            + "WHERE c.conindid = i.indexrelid) ORDER BY 1",
        rs -> {
          String name = rs.getString(1);
          Matcher m = INDEX_DEF.matcher(rs.getString(2));
          if (!m.matches()) {
            throw new IllegalStateException("cannot rebuild index " + rs.getString(2));
          }
          ddl.add(
              new Ddl(
                  table,
                  name,
                  "CREATE "
                      + (m.group(1) == null ? "" : "UNIQUE ")
                      + "INDEX "
                      + PREFIX
                      + name
                      + " ON "
                      + PREFIX
                      + table
                      + " "
                      + m.group(4),
                  "ALTER INDEX " + PREFIX + name + " RENAME TO " + name));
        },
        table);
  }

  /** A COPY into the fresh billing history; once it is finished, call {@link #filled}. */
  public HistoryCopy history() {
    return new HistoryCopy(store.historyCopy(PREFIX));
  }

  /**
   * Writes the summaries the replay folded in memory into the fresh tables, each table indexed as
   * soon as it is full.
   */
  public void copySummaries(ViewBatch batch) {
    store.copySummaries(batch, PREFIX, this::filled);
  }

  /**
   * Fills the fresh {@code token_usage} from the fresh billing history, once that is complete: the
   * hourly buckets are exactly the history's charged and failed requests grouped by the hour (UTC)
   * they completed in, key, model and endpoint. PostgreSQL groups a million rows faster than the
   * replay could keep a million buckets in memory and write them back out; the views processor
   * keeps the same buckets one event at a time ({@link ViewBatch}), and the rebuild tests check
   * that both agree.
   */
  public void aggregateUsage() {
    // Split by key, so that no bucket is in both halves, and grouped on two connections at once:
    // one INSERT ... SELECT runs on one core (PostgreSQL plans no parallel workers for it).
    List<Future<?>> halves = new ArrayList<>();
    for (int half = 0; half < 2; half++) {
      String sql =
          "INSERT INTO "
              + PREFIX
              + "token_usage (bucket, key_id, model, endpoint, requests, successes, "
              + "prompt_tokens, completion_tokens, cost) "
              + "SELECT date_trunc('hour', completed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "
              + "key_id, model, coalesce(endpoint, ''), count(*), "
              + "count(*) FILTER (WHERE event_type = 'request_charged'), "
              + "coalesce(sum(prompt_tokens) FILTER (WHERE event_type = 'request_charged'), 0), "
              + "coalesce(sum(completion_tokens) FILTER (WHERE event_type = 'request_charged'), 0), "
              + "coalesce(sum(usd) FILTER (WHERE event_type = 'request_charged'), 0) "
              + "FROM "
              + PREFIX
              + "billing_history WHERE event_type IN ('request_charged', 'request_failed') "
              + "AND hashtext(key_id) & 1 = "
              + half
              + " GROUP BY 1, 2, 3, 4";
      halves.add(indexers.submit(() -> jdbc.execute(sql)));
    }
    await(halves, "could not group the rebuilt usage");
    filled("token_usage");
  }

  /** Starts building {@code table}'s indexes and constraints, now that its rows are all in. */
  public void filled(String table) {
    for (Ddl d : ddl) {
      if (d.table().equals(table)) {
        indexing.add(indexers.submit(() -> build(d)));
      }
    }
  }

  private void build(Ddl d) {
    long started = System.nanoTime();
    jdbc.execute(
        (ConnectionCallback<Void>)
            connection -> {
              try (Statement statement = connection.createStatement()) {
                statement.execute("SET maintenance_work_mem = '" + indexMemory + "'");
                try {
                  statement.execute(d.create());
                } finally {
                  statement.execute("RESET maintenance_work_mem");
                }
              }
              return null;
            });
    log.debug("{} built in {} ms", d.name(), (System.nanoTime() - started) / 1_000_000);
  }

  /** Waits until every index and constraint started by {@link #filled} is built. */
  public void awaitIndexes() {
    await(indexing, "could not index the rebuilt views");
  }

  private static void await(List<Future<?>> work, String failure) {
    try {
      for (Future<?> f : work) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("rebuild interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(failure + ": " + e.getCause().getMessage(), e.getCause());
    }
  }

  /**
   * Waits until no other transaction uses the live views, and keeps them from anyone else until
   * this transaction ends: in the swap's transaction, before anything else it does.
   */
  public void lockLive() {
    jdbc.execute("LOCK TABLE " + String.join(", ", TABLES) + " IN ACCESS EXCLUSIVE MODE");
  }

  /**
   * Drops the live tables and gives the fresh ones, indexed, their names. Run it in the transaction
   * that also moves the views processor to where the rebuild ended: from the drop to the commit the
   * old views are locked, which takes milliseconds.
   */
  public void swap() {
    for (String table : TABLES) {
      jdbc.execute("DROP TABLE " + table);
      jdbc.execute("ALTER TABLE " + PREFIX + table + " RENAME TO " + table);
    }
    for (Ddl d : ddl) {
      jdbc.execute(d.rename());
    }
    swapped = true;
  }

  /** Stops the index builds and, unless the swap happened, drops the fresh tables. */
  @Override
  public void close() {
    indexers.shutdownNow();
    if (swapped) {
      return;
    }
    indexing.forEach(f -> f.cancel(true));
    for (String table : TABLES) {
      try {
        jdbc.execute("DROP TABLE IF EXISTS " + PREFIX + table);
      } catch (RuntimeException e) {
        log.warn("could not drop {}{} after a failed rebuild: {}", PREFIX, table, e.getMessage());
      }
    }
  }

  /** The streaming COPY of the history: rows go to PostgreSQL as they are folded. */
  public static final class HistoryCopy implements AutoCloseable {

    private final BinaryCopy copy;

    private HistoryCopy(BinaryCopy copy) {
      this.copy = copy;
    }

    public void write(List<HistoryRow> rows) {
      for (HistoryRow row : rows) {
        JdbcViewStore.history(copy, row);
      }
    }

    /** Ends the COPY: its rows are in the table, and the connection is free again. */
    public void finish() {
      copy.finish();
    }

    /** Cancels the COPY if {@link #finish()} was not reached, and releases the connection. */
    @Override
    public void close() {
      copy.close();
    }
  }
}
