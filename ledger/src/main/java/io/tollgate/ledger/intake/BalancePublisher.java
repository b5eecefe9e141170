package io.tollgate.ledger.intake;

import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.KeyBalance;
import io.tollgate.ledger.account.AccountEvent;
import io.tollgate.ledger.account.AccountState;
import io.tollgate.ledger.account.KeyAccount;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.axonframework.common.Registration;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.messaging.SubscribableMessageSource;
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
 *
 * <p>It hears the events as a plain subscriber of the event bus ({@link #subscribeTo}), which hands
 * over each transaction's events as one list in the committing thread. A subscribing event
 * processor did the same but wrapped every event in a unit of work and a result message of its own:
 * 8 % of the intake thread's time, for a set insertion per event.
 */
public class BalancePublisher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BalancePublisher.class);

  /**
   * How often balances that failed are tried again: a refusal can come back at once (a record too
   * large, a topic not authorised), and every key tried every flush would read every account ten
   * times a second for nothing.
   */
  static final long RETRY_MILLIS = 1000;

  private final Repository<KeyAccount> accounts;
  private final KafkaTemplate<String, byte[]> producer;
  private final String topic;
  private final Clock clock;
  private final Set<String> marked = ConcurrentHashMap.newKeySet();

  /** Keys whose last balance Kafka did not take; marked again every {@link #RETRY_MILLIS}. */
  private final Set<String> retries = ConcurrentHashMap.newKeySet();

  /** Whether a publish failed since the last that went, so that an outage is logged once. */
  private final AtomicBoolean failing = new AtomicBoolean();

  private long lastRetryNanos = System.nanoTime();
  private final ScheduledExecutorService flusher;
  private volatile Registration subscription;

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

  /** Hears every event published on {@code events} from now until {@link #close()}. */
  public void subscribeTo(SubscribableMessageSource<EventMessage<?>> events) {
    subscription = events.subscribe(this::published);
  }

  /**
   * The keys of one transaction's events, marked once it commits; events published outside a
   * transaction mark their keys at once.
   */
  void published(List<? extends EventMessage<?>> events) {
    Set<String> keyIds = new HashSet<>();
    for (EventMessage<?> event : events) {
      if (event.getPayload() instanceof AccountEvent account) {
        keyIds.add(account.keyId());
      }
    }
    if (keyIds.isEmpty()) {
      return;
    }
    if (CurrentUnitOfWork.isStarted()) {
      CurrentUnitOfWork.get().root().afterCommit(unit -> marked.addAll(keyIds));
    } else {
      marked.addAll(keyIds);
    }
  }

  /** Marks keys to publish whether or not they changed, e.g. every key at start. */
  public void mark(Iterable<String> keyIds) {
    keyIds.forEach(marked::add);
  }

  void flush() {
    retryFailed();
    for (String keyId : new ArrayList<>(marked)) {
      marked.remove(keyId);
      try {
        KeyBalance balance = read(keyId);
        producer
            .send(
                new ProducerRecord<>(
                    topic, keyId, CloudEventCodec.encode(balance, "/tollgate/ledger")))
            .whenComplete(
                (sent, failure) -> {
                  if (failure != null) {
                    failed(keyId, failure);
                  } else if (failing.compareAndSet(true, false)) {
                    log.info("balances are published again");
                  }
                });
      } catch (RuntimeException failure) {
        failed(keyId, failure);
      }
    }
  }

  /**
   * A balance that did not reach the topic is published again, or the gateways would go on
   * admitting against the one before it until the key's next event: a key topped up while Kafka was
   * away would stay refused, and with no calls let through no event would ever come.
   */
  private void failed(String keyId, Throwable failure) {
    retries.add(keyId);
    if (failing.compareAndSet(false, true)) {
      log.warn(
          "could not publish the balance of {} ({}); balances that fail are published again every"
              + " {} ms until they go",
          keyId,
          failure.toString(),
          RETRY_MILLIS);
    } else {
      log.debug("could not publish the balance of {}: {}", keyId, failure.toString());
    }
  }

  /** Marks the keys whose balance failed, at most once every {@link #RETRY_MILLIS}. */
  private void retryFailed() {
    long now = System.nanoTime();
    if (retries.isEmpty() || now - lastRetryNanos < TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS)) {
      return;
    }
    lastRetryNanos = now;
    for (String keyId : new ArrayList<>(retries)) {
      retries.remove(keyId);
      marked.add(keyId);
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
    if (subscription != null) {
      subscription.cancel();
    }
    flusher.shutdown();
    try {
      flusher.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    flush();
  }
}
