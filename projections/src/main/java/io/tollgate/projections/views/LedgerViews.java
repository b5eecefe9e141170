package io.tollgate.projections.views;

import io.tollgate.ledger.account.AccountEvent;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.messaging.annotation.MessageIdentifier;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.axonframework.serialization.UnknownSerializedType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The views' event handler. One processor keeps every view, so that the billing history and {@code
 * api_keys_states} are written in the same transaction and reconcile at every moment, and a rebuild
 * reads the event store once. Events of a processing batch are collected on its unit of work and
 * written when it prepares to commit, in the transaction that also stores the token.
 */
@ProcessingGroup(LedgerViews.PROCESSOR)
public class LedgerViews {

  public static final String PROCESSOR = "tollgate-views";

  private static final Logger log = LoggerFactory.getLogger(LedgerViews.class);

  private static final String BATCH = LedgerViews.class.getName() + ".batch";

  private final JdbcViewStore store;
  private final AtomicReference<Instant> lastApplied = new AtomicReference<>();
  private final AtomicLong unknownEvents = new AtomicLong();

  public LedgerViews(JdbcViewStore store) {
    this.store = store;
  }

  @EventHandler
  void on(AccountEvent event, @MessageIdentifier String eventId, @Timestamp Instant storedAt) {
    UnitOfWork<?> unitOfWork = CurrentUnitOfWork.get().root();
    ViewBatch batch =
        unitOfWork.getOrComputeResource(
            BATCH,
            name -> {
              ViewBatch fresh = new ViewBatch();
              unitOfWork.onPrepareCommit(u -> store.write(fresh));
              return fresh;
            });
    // Not the token's position: for an event that fills a gap in the global index (concurrent
    // writers leave them), the token's position is the highest index seen, not the event's own.
    batch.add(event, eventId);
    unitOfWork.afterCommit(u -> lastApplied.accumulateAndGet(storedAt, LedgerViews::later));
  }

  /**
   * An event of a type this build does not know, as a newer ledger writes during a rolling upgrade.
   * The views cannot apply it; they pass over it, loudly, and count it, so the key's rows are known
   * to be short of it until a build that knows the type rebuilds them (a rebuild with this build
   * fails on it rather than pretend).
   */
  @EventHandler
  void on(UnknownSerializedType unknown, @MessageIdentifier String eventId) {
    unknownEvents.incrementAndGet();
    log.warn(
        "event {} of type {}, unknown to this build, passed over: the views miss it until a build"
            + " that knows it rebuilds them",
        eventId,
        unknown.serializedType().getName());
  }

  /** Events of types this build does not know that the views passed over since it started. */
  public long unknownEvents() {
    return unknownEvents.get();
  }

  /** A rebuild starts from empty views; runs in the transaction that resets the token. */
  @ResetHandler
  void reset() {
    store.truncate();
    lastApplied.set(null);
  }

  /** When the newest event this processor applied was stored, or null before the first. */
  public Instant lastAppliedEventTime() {
    return lastApplied.get();
  }

  private static Instant later(Instant a, Instant b) {
    return a == null || b.isAfter(a) ? b : a;
  }
}
