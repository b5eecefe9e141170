package io.tollgate.ledger.infrastructure;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tollgate.ledger.account.KeyAccount;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventhandling.GenericDomainEventMessage;
import org.axonframework.eventsourcing.Snapshotter;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.modelling.command.Aggregate;
import org.axonframework.modelling.command.Repository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes an account's snapshot from the state the ledger already holds in its cache, instead of
 * reading the account's events back from the store and replaying them as Axon's own snapshotter
 * does. That read-back was 7 to 12 % of a busy ledger node's CPU samples in this session's
 * profiles: every event was deserialised once more, a few seconds after it was written.
 *
 * <p>On the snapshot thread, the account is loaded through its repository, like any command would
 * load it: under the account's lock, so the state and the sequence number of its last event are
 * read together and hold only committed events (a unit of work still running for the account has
 * the lock until it commits or rolls back). A cached account is not read from the store at all; an
 * evicted one is loaded the usual way, from its last snapshot and the events after it. {@link
 * io.tollgate.ledger.account.AccountState} is immutable, so the copy that is written shares it.
 *
 * <p>A request for an account that already waits for its snapshot is dropped: the waiting one will
 * take the newer state anyway. So is a snapshot at a sequence number already written (Axon's
 * trigger can ask twice within one unit of work).
 */
public class CachedStateSnapshotter implements Snapshotter {

  private static final Logger log = LoggerFactory.getLogger(CachedStateSnapshotter.class);

  private final Supplier<Repository<KeyAccount>> accounts;
  private final EventStore eventStore;
  private final TransactionManager transactions;
  private final Executor executor;
  private final Counter written;
  private final Set<String> waiting = ConcurrentHashMap.newKeySet();

  /**
   * The sequence number of the last snapshot written of each account, written only here: one entry
   * per account that has had a snapshot, as many as the configuration has keys.
   */
  private final Map<String, Long> lastWritten = new ConcurrentHashMap<>();

  /**
   * @param accounts the accounts' repository, looked up when the first snapshot is taken (the
   *     repository itself needs this snapshotter to be built)
   */
  public CachedStateSnapshotter(
      Supplier<Repository<KeyAccount>> accounts,
      EventStore eventStore,
      TransactionManager transactions,
      Executor executor,
      MeterRegistry meters) {
    this.accounts = accounts;
    this.eventStore = eventStore;
    this.transactions = transactions;
    this.executor = executor;
    this.written =
        Counter.builder("tollgate.ledger.snapshots")
            .description("account snapshots written")
            .register(meters);
  }

  /** How many snapshots this snapshotter has written since it started. */
  public long snapshotsWritten() {
    return (long) written.count();
  }

  @Override
  public void scheduleSnapshot(Class<?> type, String keyId) {
    if (type != KeyAccount.class) {
      throw new IllegalArgumentException("this snapshotter takes accounts' snapshots, not " + type);
    }
    if (!waiting.add(keyId)) {
      return;
    }
    try {
      executor.execute(() -> snapshot(keyId));
    } catch (RejectedExecutionException shuttingDown) {
      // called from the unit of work of a charge or top-up, which a snapshot must never fail
      waiting.remove(keyId);
      log.debug("no snapshot of {}: the snapshot thread has stopped", keyId);
    }
  }

  private void snapshot(String keyId) {
    try {
      DomainEventMessage<KeyAccount> snapshot =
          DefaultUnitOfWork.startAndGet(null)
              .executeWithResult(
                  () -> {
                    Aggregate<KeyAccount> account = accounts.get().load(keyId);
                    // a request made from now on may see a newer state: it takes its own snapshot
                    waiting.remove(keyId);
                    return new GenericDomainEventMessage<>(
                        account.type(), keyId, account.version(), account.invoke(KeyAccount::copy));
                  })
              .getPayload();
      Long last = lastWritten.get(keyId);
      if (last != null && last >= snapshot.getSequenceNumber()) {
        return; // asked for twice by one unit of work, or no event since the last snapshot
      }
      transactions.executeInTransaction(() -> eventStore.storeSnapshot(snapshot));
      lastWritten.put(keyId, snapshot.getSequenceNumber());
      written.increment();
    } catch (Exception failure) {
      waiting.remove(keyId);
      // a snapshot only shortens the next load; the events it would summarise are stored already
      log.warn("could not take the snapshot of {}: {}", keyId, failure.toString());
    }
  }
}
