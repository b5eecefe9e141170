package io.tollgate.projections.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.projections.views.JdbcViewStore;
import io.tollgate.projections.views.LedgerViews;
import io.tollgate.projections.views.RebuildTables;
import io.tollgate.projections.views.RebuildTables.HistoryCopy;
import io.tollgate.projections.views.ViewBatch;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Replays the event store into fresh views without going through the processor. A second thread
 * streams the events out of PostgreSQL with one binary COPY and decodes them, while this thread
 * folds them with the same {@link ViewBatch} the processor uses and streams the billing history
 * into a fresh table with one long COPY; the summaries follow once at the end, while the history is
 * indexed beside them (see {@link RebuildTables}). Axon's per-message machinery (unit of work,
 * interceptors, handler timeouts) is what held the processor's replay to a few thousand events per
 * second.
 */
public class DirectReplay {

  private static final Logger log = LoggerFactory.getLogger(DirectReplay.class);

  /** Tries of the swap's transaction when PostgreSQL breaks a deadlock by ending it. */
  private static final int SWAP_ATTEMPTS = 5;

  /** The advisory lock a rebuild holds: "tollgate" in ASCII, so no other key is likely to clash. */
  private static final long LOCK = 0x746f6c6c67617465L;

  private final DataSource dataSource;
  private final JdbcTemplate jdbc;
  private final JdbcViewStore store;
  private final ObjectMapper mapper;
  private final int chunk;
  private final String indexMemory;

  /**
   * @param mapper the event serializer's mapper: events are read exactly as the ledger wrote them
   *     (the ledger registers no upcasters; one added there must be applied here too)
   * @param indexMemory PostgreSQL's {@code maintenance_work_mem} while the fresh views are indexed
   */
  public DirectReplay(
      JdbcTemplate jdbc, JdbcViewStore store, ObjectMapper mapper, int chunk, String indexMemory) {
    this.dataSource = jdbc.getDataSource();
    this.jdbc = jdbc;
    this.store = store;
    this.mapper = mapper;
    this.chunk = chunk;
    this.indexMemory = indexMemory;
  }

  /**
   * Folds every account event with a global index up to {@code head} into fresh views and swaps
   * them in for the live ones. Call it outside a transaction: the fresh tables are written and
   * indexed in their own, and only the swap runs in one {@code transactions} starts, together with
   * {@code position}. Before that commit nothing is visible, and a failure leaves the live views
   * and the processor's position as they were.
   *
   * @param position called in the swap's transaction with the gaps, to store the processor's
   *     position: the global indexes up to {@code head} that were absent, newest {@code
   *     maxGapOffset} only, which the processor must keep as gaps in case a transaction still
   *     commits one
   */
  public void replay(
      long head,
      AtomicLong done,
      int maxGapOffset,
      TransactionTemplate transactions,
      Consumer<List<Long>> position) {
    long started = System.nanoTime();
    BlockingQueue<EventStoreCopy.Item> events = new ArrayBlockingQueue<>(8);
    AtomicBoolean gaveUp = new AtomicBoolean();
    try (RebuildLock lock = exclusive();
        RebuildTables tables = new RebuildTables(jdbc, store, indexMemory, 4)) {
      Thread reader =
          new Thread(
              new EventStoreCopy(
                  dataSource, mapper, head, maxGapOffset, chunk, events, gaveUp::get),
              "views-rebuild-reader");
      reader.setDaemon(true);
      reader.start();
      // One fold for the whole replay: key rows and period usage stay in memory and are written
      // once at the end; the history, which is append-only, streams out as it is folded, and the
      // hourly buckets are grouped from it by PostgreSQL at the end.
      ViewBatch batch = new ViewBatch(false);
      List<Long> gaps;
      try (HistoryCopy history = tables.history()) {
        while (true) {
          EventStoreCopy.Item item = events.take();
          if (item instanceof EventStoreCopy.Failed failed) {
            throw new IllegalStateException(
                "could not read the event store: " + failed.cause().getMessage(), failed.cause());
          }
          if (item instanceof EventStoreCopy.End end) {
            gaps = end.gaps();
            break;
          }
          EventStoreCopy.Chunk c = (EventStoreCopy.Chunk) item;
          for (int i = 0; i < c.size(); i++) {
            batch.add(c.events()[i], c.globalIndexes()[i]);
          }
          batch.fold(keyId -> null); // every key's row is made by this replay
          history.write(batch.drainHistory());
          done.set(c.lastIndex());
        }
        history.finish();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("rebuild interrupted", e);
      } finally {
        gaveUp.set(true);
      }
      // The history's indexes are built on other connections while the summaries are written and
      // token_usage is grouped from it.
      tables.filled("billing_history");
      long folded = System.nanoTime();
      tables.copySummaries(batch);
      tables.aggregateUsage();
      long summarised = System.nanoTime();
      tables.awaitIndexes();
      long indexed = System.nanoTime();
      swap(transactions, tables, gaps, position);
      log.info(
          "rebuild to {}: events read, folded and history copied in {} ms, summaries written in {}"
              + " ms, indexes built in {} ms, swapped in {} ms",
          head,
          millis(started, folded),
          millis(folded, summarised),
          millis(summarised, indexed),
          millis(indexed, System.nanoTime()));
    }
  }

  /**
   * Swaps the fresh tables in and stores the processor's position, in one transaction. Another
   * ledger node may have claimed the views' segment while this one replayed, and gone on applying
   * new events to the old tables: the swap waits for that node's batch to end (its token row first,
   * which such a batch takes first too, then the live tables) and takes its claim, so its next
   * batch cannot store its token, rolls back, and it claims again from the position set here.
   * Should PostgreSQL still find a deadlock with that batch, the swap is tried again.
   */
  private void swap(
      TransactionTemplate transactions,
      RebuildTables tables,
      List<Long> gaps,
      Consumer<List<Long>> position) {
    for (int attempt = 1; ; attempt++) {
      try {
        transactions.executeWithoutResult(
            tx -> {
              jdbc.query(
                  "SELECT owner FROM token_entry WHERE processor_name = ? FOR UPDATE",
                  rs -> {},
                  LedgerViews.PROCESSOR);
              tables.lockLive();
              jdbc.update(
                  "UPDATE token_entry SET owner = NULL WHERE processor_name = ?",
                  LedgerViews.PROCESSOR);
              position.accept(gaps);
              tables.swap();
            });
        return;
      } catch (RuntimeException e) {
        if (attempt == SWAP_ATTEMPTS || !isDeadlock(e)) {
          throw e;
        }
        log.info("the swap met another node's views batch in a deadlock; trying again");
      }
    }
  }

  private static boolean isDeadlock(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof SQLException sql && "40P01".equals(sql.getSQLState())) {
        return true;
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return false;
  }

  /**
   * A session holding the rebuild's advisory lock: two nodes running the projections could
   * otherwise both write the same fresh tables. Closing it lets the lock go.
   */
  private RebuildLock exclusive() {
    try {
      Connection connection = dataSource.getConnection();
      boolean locked = false;
      try (Statement statement = connection.createStatement();
          ResultSet result = statement.executeQuery("SELECT pg_try_advisory_lock(" + LOCK + ")")) {
        locked = result.next() && result.getBoolean(1);
      } finally {
        if (!locked) {
          connection.close();
        }
      }
      if (!locked) {
        throw new IllegalStateException("another node is rebuilding the views");
      }
      return new RebuildLock(connection);
    } catch (SQLException e) {
      throw new IllegalStateException("could not lock the views for a rebuild", e);
    }
  }

  /** The session holding the lock; the pool keeps sessions open, so the lock is let go first. */
  private record RebuildLock(Connection connection) implements AutoCloseable {
    @Override
    public void close() {
      try (connection;
          Statement statement = connection.createStatement()) {
        statement.execute("SELECT pg_advisory_unlock(" + LOCK + ")");
      } catch (SQLException e) {
        log.warn("could not let go of the rebuild lock: {}", e.getMessage());
      }
    }
  }

  private static long millis(long from, long to) {
    return (to - from) / 1_000_000;
  }
}
