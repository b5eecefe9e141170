package io.tollgate.projections.status;

import io.tollgate.projections.views.LedgerViews;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.EventTrackerStatus;
import org.axonframework.eventhandling.GapAwareTrackingToken;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.axonframework.eventhandling.TrackingToken;
import org.axonframework.eventhandling.WrappedToken;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedObject;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Where the views processor stands against the event store: its position, whether it caught up, how
 * far behind it is, and waiting for it. The admin API waits here after a command so that the next
 * read of a view shows the command's effect.
 */
public class ViewStatus {

  private final EventProcessingConfiguration processing;
  private final LedgerViews views;
  private final JdbcTemplate jdbc;
  private final Serializer tokenSerializer;
  private final Clock clock;

  public ViewStatus(
      EventProcessingConfiguration processing,
      LedgerViews views,
      JdbcTemplate jdbc,
      Serializer tokenSerializer,
      Clock clock) {
    this.processing = processing;
    this.views = views;
    this.jdbc = jdbc;
    this.tokenSerializer = tokenSerializer;
    this.clock = clock;
  }

  public StreamingEventProcessor processor() {
    return processing
        .eventProcessor(LedgerViews.PROCESSOR, StreamingEventProcessor.class)
        .orElseThrow(
            () -> new IllegalStateException("no streaming processor " + LedgerViews.PROCESSOR));
  }

  /** The global index of the newest committed event, 0 for an empty store. */
  public long head() {
    Long head = jdbc.queryForObject("SELECT max(global_index) FROM domain_event_entry", Long.class);
    return head == null ? 0 : head;
  }

  /**
   * The lowest position over the processor's segments: every event up to it is in the views. Empty
   * while a segment is unclaimed or has no token yet.
   */
  public OptionalLong position() {
    return lowestPosition(tokens());
  }

  private static OptionalLong lowestPosition(List<TrackingToken> tokens) {
    if (tokens.isEmpty()) {
      return OptionalLong.empty();
    }
    long lowest = Long.MAX_VALUE;
    for (TrackingToken token : tokens) {
      OptionalLong position = token == null ? OptionalLong.empty() : token.position();
      if (position.isEmpty()) {
        return OptionalLong.empty();
      }
      lowest = Math.min(lowest, position.getAsLong());
    }
    return OptionalLong.of(lowest);
  }

  /**
   * The segments' tokens: this node's own where its processor holds segments, else the ones stored
   * in the token store, so that a ledger node whose peer holds the views (two nodes, one segment)
   * still knows where they stand. A stored token is committed with the views' rows it covers.
   */
  private List<TrackingToken> tokens() {
    Map<Integer, EventTrackerStatus> status = processor().processingStatus();
    if (!status.isEmpty()) {
      List<TrackingToken> tokens = new ArrayList<>();
      status.values().forEach(segment -> tokens.add(segment.getTrackingToken()));
      return tokens;
    }
    return jdbc.query(
        "SELECT token, token_type FROM token_entry WHERE processor_name = ?",
        (rs, row) -> {
          byte[] token = rs.getBytes(1);
          return token == null
              ? null
              : tokenSerializer.<byte[], TrackingToken>deserialize(
                  new SimpleSerializedObject<>(token, byte[].class, rs.getString(2), null));
        },
        LedgerViews.PROCESSOR);
  }

  public boolean inError() {
    return processor().processingStatus().values().stream()
        .anyMatch(EventTrackerStatus::isErrorState);
  }

  public boolean isReplaying() {
    return processor().isReplaying();
  }

  /**
   * Waits until the views hold every event committed before this call, or {@code timeout} passed.
   * The position alone does not say so: an event whose transaction committed after later ones was
   * passed as a gap, and is applied when it appears. So once the position reaches the store's head,
   * any gap at or below it must be an index no committed event holds (a rolled-back insert, or one
   * still in flight, so committed after this call began).
   *
   * @return whether they caught up
   */
  public boolean awaitCaughtUp(Duration timeout) {
    long target = head();
    if (target == 0) {
      return true;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<TrackingToken> tokens = tokens(); // one read per round: on a peer node, a query
      OptionalLong position = lowestPosition(tokens);
      if (position.isPresent()
          && position.getAsLong() >= target
          && !anyCommitted(gapsUpTo(tokens, target))) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  /** The indexes up to {@code target} the processor's segments passed as gaps. */
  private static Set<Long> gapsUpTo(List<TrackingToken> tokens, long target) {
    Set<Long> gaps = new TreeSet<>();
    for (TrackingToken segment : tokens) {
      WrappedToken.unwrap(segment, GapAwareTrackingToken.class)
          .ifPresent(token -> gaps.addAll(token.getGaps().headSet(target + 1)));
    }
    return gaps;
  }

  private boolean anyCommitted(Set<Long> indexes) {
    if (indexes.isEmpty()) {
      return false;
    }
    Boolean any =
        jdbc.query(
            connection -> {
              var statement =
                  connection.prepareStatement(
                      "SELECT EXISTS (SELECT 1 FROM domain_event_entry WHERE global_index = ANY (?))");
              statement.setArray(1, connection.createArrayOf("bigint", indexes.toArray()));
              return statement;
            },
            rs -> rs.next() && rs.getBoolean(1));
    return Boolean.TRUE.equals(any);
  }

  /**
   * Projection lag: now minus the storage time of the newest event applied, while events wait to be
   * applied; zero when the processor holds everything the store has.
   */
  public Duration lag() {
    long head = head();
    OptionalLong position = position();
    if (head == 0 || (position.isPresent() && position.getAsLong() >= head)) {
      return Duration.ZERO;
    }
    Instant last = views.lastAppliedEventTime();
    if (last == null) {
      last = oldestUnappliedEventTime(position.orElse(0));
    }
    return last == null ? Duration.ZERO : Duration.between(last, clock.instant());
  }

  private Instant oldestUnappliedEventTime(long after) {
    String stored =
        jdbc.query(
            "SELECT time_stamp FROM domain_event_entry WHERE global_index > ? ORDER BY global_index LIMIT 1",
            rs -> rs.next() ? rs.getString(1) : null,
            after);
    return stored == null ? null : Instant.parse(stored);
  }
}
