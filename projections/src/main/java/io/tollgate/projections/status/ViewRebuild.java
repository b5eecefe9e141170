package io.tollgate.projections.status;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.axonframework.eventhandling.GapAwareTrackingToken;
import org.axonframework.eventhandling.StreamingEventProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Rebuilds every view from the event store: stops the views processor, resets its token (its
 * {@code @ResetHandler} empties the views in the same transaction), starts it again and reports
 * progress until it has replayed every event that existed when the rebuild began.
 */
public class ViewRebuild {

  private static final Logger log = LoggerFactory.getLogger(ViewRebuild.class);

  /** Axon's default: gaps further behind the head than this are given up as rolled back. */
  private static final int MAX_GAP_OFFSET = 10_000;

  /** A rebuild's progress; {@code eventsDone} counts by global index, which has no gaps here. */
  public record Progress(
      boolean running,
      Instant startedAt,
      Instant finishedAt,
      long eventsDone,
      long eventsTotal,
      double eventsPerSecond,
      Long secondsLeft,
      String error) {}

  private final ViewStatus status;
  private final Clock clock;
  private final ScheduledExecutorService reporter;
  private final DirectReplay direct;
  private final TransactionTemplate transactions;
  private final AtomicLong directDone = new AtomicLong();
  private volatile boolean directRunning;
  private volatile String error;
  private volatile Instant replayedAt;

  private Instant startedAt;
  private Instant finishedAt;
  private long target;
  private long finalDone;
  private ScheduledFuture<?> reporting;

  /**
   * @param direct replays the store straight into the views; null to let the processor replay it
   *     (slower, but it needs nothing beyond Axon's own reset)
   */
  public ViewRebuild(
      ViewStatus status, Clock clock, DirectReplay direct, TransactionTemplate transactions) {
    this.status = status;
    this.clock = clock;
    this.direct = direct;
    this.transactions = transactions;
    this.reporter =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "views-rebuild-progress");
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * Starts a rebuild unless one is running.
   *
   * @return false when a rebuild was already running
   */
  public synchronized boolean start() {
    if (isRunning()) {
      return false;
    }
    StreamingEventProcessor processor = status.processor();
    target = status.head();
    startedAt = clock.instant();
    finishedAt = null;
    finalDone = 0;
    error = null;
    replayedAt = null;
    log.info("rebuilding the views from {} events", target);
    processor.shutDown();
    if (direct == null) {
      try {
        processor.resetTokens();
      } catch (RuntimeException e) {
        // Another node holds the segment: nothing was reset, and the progress says why.
        log.error("rebuild failed; the views are as they were before it", e);
        error = String.valueOf(e.getMessage());
      } finally {
        processor.start();
      }
    } else {
      directDone.set(0);
      directRunning = true;
      Thread replay = new Thread(() -> replayDirectly(processor), "views-rebuild");
      replay.setDaemon(true);
      replay.start();
    }
    reporting = reporter.scheduleAtFixedRate(this::report, 2, 2, TimeUnit.SECONDS);
    return true;
  }

  /**
   * Replays every event up to the head into fresh views, then swaps them in and sets the
   * processor's token to the head in one transaction, and starts the processor from there. If the
   * replay fails, nothing is swapped: the old views and the processor's old position stay, and the
   * processor goes on from where it was.
   */
  private void replayDirectly(StreamingEventProcessor processor) {
    try {
      direct.replay(
          target,
          directDone,
          MAX_GAP_OFFSET,
          transactions,
          gaps -> processor.resetTokens(GapAwareTrackingToken.newInstance(target, gaps)));
    } catch (RuntimeException e) {
      log.error("rebuild failed; the views are as they were before it", e);
      error = String.valueOf(e.getMessage());
    } finally {
      replayedAt = clock.instant();
      processor.start();
      directRunning = false;
    }
  }

  public synchronized boolean isRunning() {
    return startedAt != null && finishedAt == null && !checkFinished();
  }

  private boolean checkFinished() {
    if (directRunning) {
      return false;
    }
    OptionalLong position = status.position();
    if (error != null
        || target == 0
        || (position.isPresent() && position.getAsLong() >= target && !status.isReplaying())) {
      // A direct rebuild ended when its replay did, not when someone next asked.
      finishedAt = replayedAt != null ? replayedAt : clock.instant();
      finalDone = position.orElse(0);
      if (reporting != null) {
        reporting.cancel(false);
      }
      if (error != null) {
        return true; // replayDirectly logged the failure
      }
      Duration took = Duration.between(startedAt, finishedAt);
      log.info(
          "views rebuilt: {} events in {} ms ({} events/s)",
          finalDone,
          took.toMillis(),
          Math.round(rate(finalDone, took)));
      return true;
    }
    return false;
  }

  public synchronized Progress progress() {
    if (startedAt == null) {
      return new Progress(false, null, null, 0, 0, 0, null, null);
    }
    boolean running = isRunning();
    Instant end = running ? clock.instant() : finishedAt;
    long done =
        !running
            ? finalDone
            : directRunning ? directDone.get() : Math.min(status.position().orElse(0), target);
    Duration elapsed = Duration.between(startedAt, end);
    double rate = rate(done, elapsed);
    Long left = null;
    if (!running) {
      left = 0L;
    } else if (rate > 0) {
      left = (long) Math.ceil((target - done) / rate);
    }
    return new Progress(
        running, startedAt, finishedAt, done, target, Math.round(rate * 10) / 10.0, left, error);
  }

  private static double rate(long events, Duration elapsed) {
    long millis = Math.max(1, elapsed.toMillis());
    return events * 1000.0 / millis;
  }

  private void report() {
    Progress p = progress();
    if (p.running()) {
      log.info(
          "rebuilding views: {} of {} events, {} events/s, about {} s left",
          p.eventsDone(),
          p.eventsTotal(),
          Math.round(p.eventsPerSecond()),
          p.secondsLeft());
    }
  }
}
