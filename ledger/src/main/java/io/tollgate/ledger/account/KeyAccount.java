package io.tollgate.ledger.account;

import static org.axonframework.modelling.command.AggregateLifecycle.apply;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import io.tollgate.ledger.account.AccountCommands.AddCountCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.AddCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.ApplyKeyConfigCommand;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.account.AccountCommands.CorrectChargeCommand;
import io.tollgate.ledger.account.AccountCommands.DisableKeyCommand;
import io.tollgate.ledger.account.AccountCommands.EnableKeyCommand;
import io.tollgate.ledger.account.AccountCommands.SetBillingModeCommand;
import io.tollgate.ledger.account.AccountCommands.StartBillingPeriodCommand;
import io.tollgate.ledger.pricing.PriceBook;
import org.axonframework.commandhandling.CommandHandler;
import org.axonframework.eventsourcing.EventSourcingHandler;
import org.axonframework.modelling.command.AggregateCreationPolicy;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.CreationPolicy;
import org.axonframework.spring.stereotype.Aggregate;

/**
 * The event-sourced account of one API key, identified by its key id. A thin shell: the rules are
 * in {@link AccountState}; this class loads them with history and records what they decide.
 *
 * <p>Snapshots are written with Jackson, hence the field visibility and the no-arg constructor.
 */
@Aggregate(
    snapshotTriggerDefinition = "keyAccountSnapshotTrigger",
    commandTargetResolver = "keyCommandTargetResolver",
    cache = "keyAccountCache")
@JsonAutoDetect(
    fieldVisibility = Visibility.ANY,
    getterVisibility = Visibility.NONE,
    isGetterVisibility = Visibility.NONE)
public class KeyAccount {

  @AggregateIdentifier private String keyId;

  private AccountState state;

  /**
   * Axon creates the aggregate empty and replays its events; Jackson does the same for snapshots.
   */
  protected KeyAccount() {}

  @CommandHandler
  @CreationPolicy(AggregateCreationPolicy.CREATE_IF_MISSING)
  void handle(ApplyKeyConfigCommand command) {
    AccountState.decide(state, command).forEach(event -> apply(event));
  }

  /** Idempotent forever: a request id already recorded, by this or any earlier run, is skipped. */
  @CommandHandler
  void handle(ChargeRequestCommand command, PriceBook prices, RequestIdRegistry requestIds) {
    if (!command.keyId().equals(command.request().keyId())) {
      throw new IllegalArgumentException(
          "command for " + command.keyId() + " carries a request of " + command.request().keyId());
    }
    if (!requestIds.claim(keyId, command.request().requestId())) {
      return;
    }
    apply(state.decide(command, prices));
  }

  @CommandHandler
  void handle(AddCreditsCommand command) {
    apply(state.decide(command));
  }

  @CommandHandler
  void handle(AddCountCreditsCommand command) {
    apply(state.decide(command));
  }

  @CommandHandler
  void handle(SetBillingModeCommand command) {
    state.decideMode(command.billingMode(), command.at()).ifPresent(event -> apply(event));
  }

  @CommandHandler
  void handle(StartBillingPeriodCommand command) {
    apply(state.decidePeriod(command.periodStart(), command.at()));
  }

  @CommandHandler
  void handle(DisableKeyCommand command) {
    state.decideEnabled(false, command.reason(), command.at()).ifPresent(event -> apply(event));
  }

  @CommandHandler
  void handle(EnableKeyCommand command) {
    state.decideEnabled(true, command.reason(), command.at()).ifPresent(event -> apply(event));
  }

  @CommandHandler
  void handle(CorrectChargeCommand command) {
    state.decide(command).ifPresent(event -> apply(event));
  }

  @EventSourcingHandler
  void on(AccountEvent event) {
    keyId = event.keyId();
    state = AccountState.evolve(state, event);
  }

  /**
   * A copy to snapshot while this account goes on changing: its state is immutable, so sharing it
   * is safe.
   */
  public KeyAccount copy() {
    KeyAccount copy = new KeyAccount();
    copy.keyId = keyId;
    copy.state = state;
    return copy;
  }

  /** The current state, for tests and the ledger's own read of a key. */
  public AccountState state() {
    return state;
  }
}
