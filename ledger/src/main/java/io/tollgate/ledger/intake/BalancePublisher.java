package io.tollgate.ledger.intake;

import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.KeyBalance;
import io.tollgate.ledger.account.AccountEvent;
import io.tollgate.ledger.account.AccountState;
import io.tollgate.ledger.account.KeyAccount;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.modelling.command.Aggregate;
import org.axonframework.modelling.command.Repository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;

/**
 * Publishes what each key has left to the compacted balance topic the gateways follow. Any event of
 * a key (a charge, a top-up, a mode change) marks the key once its transaction has committed; every
 * {@code interval} the marked keys' accounts are read and published, so a burst of charges to one
 * key costs one message. The message carries the account's version, and a gateway keeps the
 * highest, so order across flushes does not matter.
 */
@ProcessingGroup(BalancePublisher.PROCESSING_GROUP)
public class BalancePublisher implements AutoCloseable {

  public static final String PROCESSING_GROUP = "tollgate-balances";

  private static final Logger log = LoggerFactory.getLogger(BalancePublisher.class);

  private final Repository<KeyAccount> accounts;
  private final KafkaTemplate<String, byte[]> producer;
  private final String topic;
  private final Clock clock;
  private final Set<String> marked = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService flusher;

  public BalancePublisher(
      Repository<KeyAccount> accounts,
      KafkaTemplate<String, byte[]> producer,
      String topic,
      Clock clock,
      long intervalMillis) {
    this.accounts = accounts;
    this.producer = producer;
    this.topic = topic;
    this.clock = clock;
    this.flusher =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "balance-publisher");
              thread.setDaemon(true);
              return thread;
            });
    flusher.scheduleWithFixedDelay(
        this::flush, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
  }

  @EventHandler
  void on(AccountEvent event) {
    String keyId = event.keyId();
    if (CurrentUnitOfWork.isStarted()) {
      CurrentUnitOfWork.get().root().afterCommit(unit -> marked.add(keyId));
    } else {
      marked.add(keyId);
    }
  }

  /** Marks keys to publish whether or not they changed, e.g. every key at start. */
  public void mark(Iterable<String> keyIds) {
    keyIds.forEach(marked::add);
  }

  void flush() {
    for (String keyId : new ArrayList<>(marked)) {
      marked.remove(keyId);
      try {
        KeyBalance balance = read(keyId);
        producer.send(
            new ProducerRecord<>(
                topic, keyId, CloudEventCodec.encode(balance, "/tollgate/ledger")));
      } catch (RuntimeException failure) {
        log.warn("could not publish the balance of {}: {}", keyId, failure.toString());
      }
    }
  }

  private KeyBalance read(String keyId) {
    return DefaultUnitOfWork.startAndGet(null)
        .executeWithResult(
            () -> {
              Aggregate<KeyAccount> account = accounts.load(keyId);
              AccountState state = account.invoke(KeyAccount::state);
              Long version = account.version();
              return new KeyBalance(
                  keyId,
                  state.billingMode().wireName(),
                  state.usdBalance().orElse(null),
                  state.countBalance().orElse(null),
                  state.enabled(),
                  version == null ? 0 : version,
                  clock.instant());
            })
        .getPayload();
  }

  @Override
  public void close() {
    flusher.shutdown();
    try {
      flusher.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    flush();
  }
}
