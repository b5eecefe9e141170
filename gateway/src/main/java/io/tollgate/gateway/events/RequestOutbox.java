package io.tollgate.gateway.events;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.RequestCompleted;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * <p>The message is the request id's CloudEvent; sending it twice is harmless, the ledger charges a
 * request id once. So a drain that half succeeds is simply retried whole.
 */
public final class RequestOutbox implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RequestOutbox.class);

  private final Producer<String, byte[]> producer;
  private final String topic;
  private final String source;
  private final FileJournal journal;
  private final ScheduledExecutorService drainer;

  public RequestOutbox(
      Producer<String, byte[]> producer, String topic, String source, FileJournal journal, MeterRegistry meters) {
    this.producer = producer;
    this.topic = topic;
    this.source = source;
    this.journal = journal;
    Gauge.builder("tollgate.outbox.waiting", journal, FileJournal::messages)
        .description("finished calls whose event waits on disk for Kafka")
        .register(meters);
    if (journal.messages() > 0) {
      log.warn("{} events wait in the outbox journal from an earlier run; sending them when Kafka answers",
          journal.messages());
    }
    this.drainer = Executors.newSingleThreadScheduledExecutor(task -> {
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
      producer.send(new ProducerRecord<>(topic, request.keyId(), message), (metadata, failure) -> {
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

  /** Sends everything the journal holds and waits for Kafka to confirm it all. */
  void drain() {
    if (journal.messages() == 0) {
      return;
    }
    List<byte[]> batch = journal.takeAll();
    List<Future<?>> sent = new ArrayList<>(batch.size());
    try {
      for (byte[] message : batch) {
        String key = CloudEventCodec.decodeRequestCompleted(message).keyId();
        sent.add(producer.send(new ProducerRecord<>(topic, key, message)));
      }
      for (Future<?> confirmation : sent) {
        confirmation.get(30, TimeUnit.SECONDS);
      }
      journal.drained();
      log.info("sent {} events from the outbox journal to Kafka; {} wait", batch.size(), journal.messages());
    } catch (Exception stillDown) {
      journal.putBack(batch);
      log.warn("Kafka is still not taking events ({}); {} wait in the outbox journal",
          stillDown.getClass().getSimpleName(), journal.messages());
      if (stillDown instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void close() {
    drainer.shutdownNow();
    producer.flush();
    producer.close();
  }
}
