package io.tollgate.ledger.intake;

import io.tollgate.config.ApiConfig;
import io.tollgate.contracts.KeyIds;
import io.tollgate.ledger.infrastructure.KeyConfigSync;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;

/**
 * Starts taking charges only once the ledger knows every key of the file: a charge waiting in Kafka
 * for a key just added to api.yaml would otherwise be dead-lettered as unknown. Applying the file
 * is idempotent, so running it here, whether or not {@link KeyConfigSync} already did, costs one
 * batch of no-op commands. Every key's balance is then published once, so a gateway that starts
 * against an empty balance topic learns them all.
 */
public class IntakeStarter {

  private final KeyConfigSync keys;
  private final ApiConfig config;
  private final BalancePublisher balances;
  private final KafkaListenerEndpointRegistry listeners;

  public IntakeStarter(
      KeyConfigSync keys,
      ApiConfig config,
      BalancePublisher balances,
      KafkaListenerEndpointRegistry listeners) {
    this.keys = keys;
    this.config = config;
    this.balances = balances;
    this.listeners = listeners;
  }

  @EventListener(ApplicationReadyEvent.class)
  public void start() {
    keys.sync();
    balances.mark(config.apiKeys().stream().map(entry -> KeyIds.of(entry.key())).toList());
    listeners.getListenerContainer(RequestIntake.LISTENER_ID).start();
  }
}
