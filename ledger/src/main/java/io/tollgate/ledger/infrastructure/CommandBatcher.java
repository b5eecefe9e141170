package io.tollgate.ledger.infrastructure;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.messaging.GenericMessage;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.axonframework.modelling.command.AggregateStreamCreationException;
import org.axonframework.modelling.command.ConcurrencyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs many commands in one unit of work and one database transaction, so that they share one
 * commit: one fsync for hundreds of charges instead of one each, which is what lets the ledger go
 * beyond the few hundred commits per second a disk allows.
 *
 * <p>Each command still runs in its own nested unit of work, and its events are appended when the
 * batch commits, all or nothing. If any command fails, or the commit does, the whole batch is
 * rolled back and every command is run again on its own, so one bad command costs its batch some
 * time but never its neighbours' charges. Request-id idempotency makes the retry harmless. A
 * command that fails because another writer (a second ledger node, an admin call there) stored an
 * event of its account first is run again, a few times, on the stored events.
 */
public class CommandBatcher {

  private static final Logger log = LoggerFactory.getLogger(CommandBatcher.class);

  /** Tries of a command whose account another writer changed under it, the first included. */
  private static final int CONFLICT_ATTEMPTS = 4;

  private final CommandGateway commands;
  private final TransactionManager transactions;
  private final Consumer<List<?>> beforeBatch;

  /**
   * @param beforeBatch runs inside each batch's unit of work and transaction before its first
   *     command, with the whole batch: where work for all commands can be done in one statement
   */
  public CommandBatcher(
      CommandGateway commands, TransactionManager transactions, Consumer<List<?>> beforeBatch) {
    this.commands = commands;
    this.transactions = transactions;
    this.beforeBatch = beforeBatch;
  }

  /** What became of one command of a batch. */
  public record Outcome(Object command, Throwable failure) {
    public boolean succeeded() {
      return failure == null;
    }
  }

  /**
   * Runs {@code batch}, in order, and says what became of each command. Returns only once every
   * command that succeeded is committed.
   */
  public List<Outcome> dispatchAll(List<?> batch) {
    if (batch.isEmpty()) {
      return List.of();
    }
    RuntimeException failure = run(batch);
    if (failure == null) {
      List<Outcome> outcomes = new ArrayList<>(batch.size());
      batch.forEach(command -> outcomes.add(new Outcome(command, null)));
      return outcomes;
    }
    if (batch.size() == 1) {
      return List.of(new Outcome(batch.get(0), failure));
    }
    log.warn(
        "a batch of {} commands failed ({}); running them one by one",
        batch.size(),
        failure.toString());
    List<Outcome> outcomes = new ArrayList<>(batch.size());
    for (Object command : batch) {
      outcomes.add(new Outcome(command, run(List.of(command))));
    }
    return outcomes;
  }

  /**
   * Runs {@code commands} in one transaction, again while they fail because another ledger node (or
   * an admin call there) stored an event of one of their accounts first: the rollback dropped the
   * accounts from the cache, so the next try decides on the stored events. A whole batch is tried
   * again before its commands are run one by one, so the stale accounts a node finds after a
   * rebalance cost one more transaction, not one per command.
   *
   * @return null once they are committed, else the last failure
   */
  private RuntimeException run(List<?> commands) {
    RuntimeException failure = null;
    for (int attempt = 0; attempt < CONFLICT_ATTEMPTS; attempt++) {
      try {
        runInOneTransaction(commands);
        return null;
      } catch (RuntimeException e) {
        failure = e;
        if (!isConflict(e)) {
          return e;
        }
        log.info(
            "{} met a concurrent write to an account; running again",
            commands.size() == 1 ? commands.get(0) : "a batch of " + commands.size() + " commands");
      }
    }
    return failure;
  }

  private static boolean isConflict(Throwable failure) {
    // The second: two nodes registering the same key from api.yaml at once.
    return Causes.any(
        failure,
        cause ->
            cause instanceof ConcurrencyException
                || cause instanceof AggregateStreamCreationException);
  }

  private void runInOneTransaction(List<?> batch) {
    UnitOfWork<?> unitOfWork =
        DefaultUnitOfWork.startAndGet(GenericMessage.asMessage(batch.size()));
    try {
      unitOfWork.attachTransaction(transactions);
      beforeBatch.accept(batch);
      for (Object command : batch) {
        commands.sendAndWait(command);
      }
    } catch (RuntimeException | Error failure) {
      unitOfWork.rollback(failure);
      throw failure;
    }
    unitOfWork.commit();
  }
}
