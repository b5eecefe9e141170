package io.tollgate.gateway.events;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.RequestCompleted;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes each finished call's {@link RequestCompleted} to Kafka, and never loses one: a message
 * Kafka does not confirm (it is down, or the send times out) goes to the {@link FileJournal}, and a
 * background drain sends the journal when Kafka answers again. While the journal is not empty new
 * messages queue behind it too, so a backlog drains before fresh traffic overtakes it for long.
 *
 * <p>Delivery is at least once: a send Kafka stored but whose confirmation was lost is sent again.
 * That is harmless, the ledger charges a request id once.
 */
public final class RequestOutbox implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RequestOutbox.class);

  private final Producer<String, byte[]> producer;
  private final String topic;
  private final String source;
  private final FileJournal journal;
  private final ScheduledExecutorService drainer;

  public RequestOutbox(
      Producer<String, byte[]> producer,
      String topic,
      String source,
      FileJournal journal,
      MeterRegistry meters) {
    this.producer = producer;
    this.topic = topic;
    this.source = source;
    this.journal = journal;
    Gauge.builder("tollgate.outbox.waiting", journal, FileJournal::messages)
        .description("finished calls whose event waits on disk for Kafka")
        .register(meters);
    if (journal.messages() > 0) {
      log.warn(
          "{} events wait in the outbox journal from an earlier run; sending them when Kafka answers",
          journal.messages());
    }
    this.drainer =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "outbox-drain");
              thread.setDaemon(true);
              return thread;
            });
    drainer.scheduleWithFixedDelay(this::drain, 1, 1, TimeUnit.SECONDS);
  }

  /** Whether calls may still be served: each needs room for its event should Kafka be down. */
  public boolean hasRoom() {
    return journal.hasRoom();
  }

  public long waiting() {
    return journal.messages();
  }

  public void publish(RequestCompleted request) {
    byte[] message = CloudEventCodec.encode(request, source);
    if (journal.messages() > 0) {
      keep(message);
      return;
    }
    try {
      producer.send(
          new ProducerRecord<>(topic, request.keyId(), message),
          (metadata, failure) -> {
            if (failure != null) {
              keep(message);
            }
          });
    } catch (RuntimeException failure) {
      keep(message);
    }
  }

  private void keep(byte[] message) {
    boolean first = journal.messages() == 0;
    journal.append(message);
    if (first) {
      log.warn("Kafka did not take an event; finished calls now wait in the outbox journal");
    }
  }

  /**
   * Sends everything the journal holds and waits for Kafka's answers; what Kafka did not confirm
   * goes back into the journal for the next drain.
   */
  void drain() {
    if (journal.messages() == 0) {
      return;
    }
    List<byte[]> batch = journal.takeAll();
    List<Future<?>> sent = new ArrayList<>(batch.size());
    for (byte[] message : batch) {
      String key = CloudEventCodec.decodeRequestCompleted(message).keyId();
      try {
        sent.add(producer.send(new ProducerRecord<>(topic, key, message)));
      } catch (RuntimeException refused) {
        sent.add(CompletableFuture.failedFuture(refused));
      }
    }
    List<byte[]> unconfirmed = new ArrayList<>();
    Exception lastFailure = null;
    for (int i = 0; i < batch.size(); i++) {
      try {
        sent.get(i).get(30, TimeUnit.SECONDS);
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        unconfirmed.addAll(batch.subList(i, batch.size()));
        break;
      } catch (ExecutionException | TimeoutException failure) {
        unconfirmed.add(batch.get(i));
        lastFailure = failure;
      }
    }
    journal.putBack(unconfirmed);
    if (unconfirmed.isEmpty()) {
      log.info(
          "sent {} events from the outbox journal to Kafka; {} wait",
          batch.size(),
          journal.messages());
    } else {
      log.warn(
          "Kafka took {} of {} events from the outbox journal ({}); {} wait",
          batch.size() - unconfirmed.size(),
          batch.size(),
          lastFailure == null ? "interrupted" : lastFailure.getClass().getSimpleName(),
          journal.messages());
    }
  }

  @Override
  public void close() {
    drainer.shutdownNow();
    producer.flush();
    producer.close();
  }
}
