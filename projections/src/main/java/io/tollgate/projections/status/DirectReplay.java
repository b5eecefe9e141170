package io.tollgate.projections.status;

import io.tollgate.ledger.account.AccountEvent;
import io.tollgate.projections.views.JdbcViewStore;
import io.tollgate.projections.views.ViewBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedObject;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Replays the event store into empty views without going through the processor: events are read in
 * large chunks by global index, deserialised with the ledger's serializer and folded by the same
 * {@link ViewBatch} the processor uses; the history is copied per chunk, the summaries once at the
 * end, all with COPY into the emptied tables. Axon's per-message machinery (unit of work,
 * interceptors, handler timeouts) is what held the processor's replay to a few thousand events per
 * second.
 */
public class DirectReplay {

  private static final String EVENT_TYPES = AccountEvent.class.getName() + "$%";

  private final JdbcTemplate jdbc;
  private final JdbcViewStore store;
  private final Serializer serializer;
  private final int chunk;

  public DirectReplay(JdbcTemplate jdbc, JdbcViewStore store, Serializer serializer, int chunk) {
    this.jdbc = jdbc;
    this.store = store;
    this.serializer = serializer;
    this.chunk = chunk;
  }

  private record Row(long globalIndex, String type, String revision, byte[] payload) {}

  /**
   * Folds every account event with a global index up to {@code head} into the (empty) views; run it
   * inside one transaction so a failure leaves nothing half written.
   *
   * @return the global indexes up to {@code head} that were absent, newest {@code maxGaps} only:
   *     the processor's token must keep them as gaps in case a transaction still commits one
   */
  public List<Long> replay(long head, AtomicLong done, int maxGapOffset) {
    List<Long> gaps = new ArrayList<>();
    long after = 0;
    // One fold for the whole replay: key rows, period usage and hourly buckets stay in memory and
    // are written once at the end; only the history, which is append-only, is written per chunk.
    ViewBatch batch = new ViewBatch();
    while (after < head) {
      List<Row> rows =
          jdbc.query(
              "SELECT global_index, payload_type, payload_revision, payload FROM domain_event_entry "
                  + "WHERE global_index > ? AND global_index <= ? ORDER BY global_index LIMIT ?",
              (rs, i) -> new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBytes(4)),
              after,
              head,
              chunk);
      if (rows.isEmpty()) {
        addGaps(gaps, after + 1, head + 1, head, maxGapOffset);
        break;
      }
      for (Row row : rows) {
        addGaps(gaps, after + 1, row.globalIndex(), head, maxGapOffset);
        after = row.globalIndex();
        if (!row.type().startsWith(AccountEvent.class.getName() + "$")) {
          continue;
        }
        AccountEvent event =
            serializer.deserialize(
                new SimpleSerializedObject<>(
                    row.payload(), byte[].class, row.type(), row.revision()));
        batch.add(event, row.globalIndex());
      }
      batch.fold(keyId -> null); // the views are empty: every key's row is made by this replay
      store.copyHistory(batch.drainHistory());
      done.set(after);
    }
    store.copySummaries(batch);
    return gaps;
  }

  private static void addGaps(List<Long> gaps, long from, long to, long head, int maxGapOffset) {
    for (long missing = Math.max(from, head - maxGapOffset + 1); missing < to; missing++) {
      gaps.add(missing);
    }
  }

  static String eventTypes() {
    return EVENT_TYPES;
  }
}
