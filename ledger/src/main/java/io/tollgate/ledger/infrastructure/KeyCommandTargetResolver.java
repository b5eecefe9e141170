package io.tollgate.ledger.infrastructure;

import io.tollgate.ledger.account.AccountCommands.AccountCommand;
import org.axonframework.commandhandling.CommandMessage;
import org.axonframework.modelling.command.CommandTargetResolver;
import org.axonframework.modelling.command.VersionedAggregateIdentifier;

/**
 * Routes an account command to its key's aggregate by the command's own {@code keyId()}. Axon's
 * default resolver scans the command class's annotations by reflection for every command, a
 * measurable share of the ledger's CPU under load.
 */
public class KeyCommandTargetResolver implements CommandTargetResolver {

  @Override
  public VersionedAggregateIdentifier resolveTarget(CommandMessage<?> command) {
    if (command.getPayload() instanceof AccountCommand accountCommand) {
      return new VersionedAggregateIdentifier((Object) accountCommand.keyId(), null);
    }
    throw new IllegalArgumentException(
        "not a key account command: " + command.getPayloadType().getName());
  }
}
