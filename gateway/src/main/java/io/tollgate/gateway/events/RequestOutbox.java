package io.tollgate.gateway.events;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.RequestCompleted;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * <p>Before an event leaves the event loop it is written to the {@link EventLog}, and freed there
 * when Kafka confirms it or the journal holds it: a gateway process that dies with events in its
 * hand-off queue or its producer's buffer leaves them in the log, and the next start puts them in
 * the journal. An event the log has no room for (Kafka slow to confirm the thousands before it, or
 * an event too large for a slot) is not handed to the producer at all but put in the journal by the
 * publishing thread, milliseconds after its call ended (later only while that thread is itself
 * behind), rather than wait in the producer's memory for up to the delivery timeout.
 *
 * <p>Delivery is at least once: a send Kafka stored but whose confirmation was lost is sent again,
 * and so is an event whose confirmation came just before the process died. That is harmless, the
 * ledger charges a request id once.
 */
public final class RequestOutbox implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RequestOutbox.class);

  private final Producer<String, byte[]> producer;
  private final String topic;
  private final String source;
  private final FileJournal journal;
  private final EventLog eventLog;
  private final Counter unlogged;
  private final ScheduledExecutorService drainer;

  /**
   * Events Kafka refused, each still in its event-log slot, for the journal; and events the journal
   * refused, for it to try again.
   */
  private final Queue<Recorded> refused = new ConcurrentLinkedQueue<>();

  /** Whether the last append to the journal failed, so that a failing disk is logged once. */
  private final AtomicBoolean journalRefusing = new AtomicBoolean();

  /**
   * A finished call's event, encoded, and the slot of the {@link EventLog} that holds it until
   * Kafka confirms it (-1: none, it is held in memory only).
   */
  public record Recorded(String requestId, String keyId, byte[] message, int slot) {
    @Override
    public String toString() {
      return "the event of " + requestId;
    }
  }

  public RequestOutbox(
      Producer<String, byte[]> producer,
      String topic,
      String source,
      FileJournal journal,
      EventLog eventLog,
      MeterRegistry meters) {
    this(producer, topic, source, journal, eventLog, meters, Duration.ofSeconds(1));
  }

  /** With the journal's drain every {@code drainEvery}: for tests that drain it themselves. */
  RequestOutbox(
      Producer<String, byte[]> producer,
      String topic,
      String source,
      FileJournal journal,
      EventLog eventLog,
      MeterRegistry meters,
      Duration drainEvery) {
    this.producer = producer;
    this.topic = topic;
    this.source = source;
    this.journal = journal;
    this.eventLog = eventLog;
    List<byte[]> leftOver = eventLog.leftOver();
    if (!leftOver.isEmpty()) {
      // Into the journal (forced to disk) before the log lets go of them.
      journal.append(leftOver);
      eventLog.forgetLeftOver();
      log.warn(
          "{} events of calls served before the gateway last stopped were never confirmed by"
              + " Kafka; they wait in the outbox journal and are sent from there",
          leftOver.size());
    }
    Gauge.builder("tollgate.outbox.waiting", journal, FileJournal::messages)
        .description("finished calls whose event waits on disk for Kafka")
        .register(meters);
    Gauge.builder("tollgate.outbox.unconfirmed", eventLog, EventLog::held)
        .description("finished calls whose event Kafka has yet to confirm")
        .register(meters);
    this.unlogged =
        Counter.builder("tollgate.outbox.unlogged")
            .description(
                "finished calls whose event found no room in the event log (too large, or the"
                    + " log full of events Kafka has yet to confirm) and went to the outbox"
                    + " journal instead")
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
    drainer.scheduleWithFixedDelay(
        this::drainOrSayWhy, drainEvery.toMillis(), drainEvery.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Whether calls may still be served: each needs room for its event should Kafka be down. */
  public boolean hasRoom() {
    return journal.hasRoom();
  }

  public long waiting() {
    return journal.messages();
  }

  /**
   * Encodes a finished call's event and writes it to the event log; on the event loop, as the call
   * ends. {@link #send} takes it on from the publishing thread, which puts it in the journal if the
   * event log had no room for it.
   */
  public Recorded record(RequestCompleted request) {
    byte[] message = CloudEventCodec.encode(request, source);
    int slot = eventLog.write(message);
    if (slot < 0) {
      unlogged.increment();
    }
    return new Recorded(request.requestId(), request.keyId(), message, slot);
  }

  /**
   * Sends recorded events to Kafka, or keeps them in the journal; frees each one's slot after
   * either. An event the event log had no room for goes to the journal at once, as does every event
   * after it: it is durable nowhere else, and a gateway that died with it in Kafka's buffer would
   * lose its charge. The journal is forced to disk once for the batch.
   */
  public void send(List<Recorded> events) {
    List<Recorded> kept = new ArrayList<>();
    takeRefused(kept);
    for (Recorded event : events) {
      if (kept.isEmpty() && event.slot() >= 0 && journal.messages() == 0 && handedToKafka(event)) {
        continue;
      }
      kept.add(event);
    }
    // A send can fail at once (no metadata within max.block.ms), its callback run right here.
    takeRefused(kept);
    if (!kept.isEmpty()) {
      keep(kept);
    }
  }

  /**
   * Whether the producer took the event. Kafka's confirmation frees its slot; its refusal (in
   * Kafka's I/O thread, for every event in flight when delivery times out) only queues it for the
   * journal, which {@link #send} and the drain fill in batches: a forced write per refused event on
   * that thread would hold up the producer, and the publisher behind the journal's lock, for
   * seconds. The event keeps its slot until the journal holds it.
   */
  private boolean handedToKafka(Recorded event) {
    try {
      producer.send(
          new ProducerRecord<>(topic, event.keyId(), event.message()),
          (metadata, failure) -> {
            if (failure != null) {
              refused.add(event);
            } else {
              eventLog.free(event.slot());
            }
          });
      return true;
    } catch (RuntimeException refusedAtOnce) {
      return false;
    }
  }

  private void takeRefused(List<Recorded> into) {
    Recorded event;
    while ((event = refused.poll()) != null) {
      into.add(event);
    }
  }

  /** Puts the events Kafka refused since the last look in the journal. */
  private void keepRefused() {
    List<Recorded> events = new ArrayList<>();
    takeRefused(events);
    if (!events.isEmpty()) {
      keep(events);
    }
  }

  private void keep(List<Recorded> events) {
    List<byte[]> messages = new ArrayList<>(events.size());
    for (Recorded event : events) {
      messages.add(event.message());
    }
    boolean first = journal.messages() == 0;
    try {
      journal.append(messages);
    } catch (UncheckedIOException refusedByTheDisk) {
      // The events wait in memory (those with a slot in the event log there too, should the
      // process die) for the next drain to try again; meanwhile the journal has no room, so
      // admission turns calls away rather than serve calls whose events it could not keep.
      refused.addAll(events);
      if (journalRefusing.compareAndSet(false, true)) {
        log.error(
            "{} events could not be kept in the outbox journal; they wait in memory, and no calls"
                + " are served until the journal takes writes again",
            events.size(),
            refusedByTheDisk);
      } else {
        log.debug("the outbox journal still refuses writes: {}", refusedByTheDisk.getMessage());
      }
      return;
    }
    if (journalRefusing.compareAndSet(true, false)) {
      log.warn("the outbox journal takes writes again; calls are served");
    }
    for (Recorded event : events) {
      eventLog.free(event.slot());
    }
    if (first) {
      log.warn(
          events.get(0).slot() < 0
              ? "an event found no room in the event log (Kafka has yet to confirm the events"
                  + " before it, or it is over "
                  + EventLog.MAX_MESSAGE_BYTES
                  + " bytes); finished calls now wait in the outbox journal"
              : "Kafka did not take an event; finished calls now wait in the outbox journal");
    }
  }

  /**
   * The scheduled drain: a task of a {@link ScheduledExecutorService} that throws is never run
   * again, and a drain that stopped for good would leave the journal to fill until the gateway
   * refuses every call. A failed drain (the disk, say) is logged and tried again at the next tick;
   * its messages are still on disk.
   */
  private void drainOrSayWhy() {
    try {
      drain();
    } catch (RuntimeException failure) {
      log.error(
          "draining the outbox journal failed; {} events wait on disk, the next drain tries again",
          journal.messages(),
          failure);
    }
  }

  /**
   * Sends everything the journal holds and waits for Kafka's answers; what Kafka did not confirm
   * goes back into the journal for the next drain, as does the whole batch should the drain fail on
   * the way (a message sent twice is harmless).
   */
  void drain() {
    keepRefused();
    if (journal.messages() == 0) {
      return;
    }
    List<byte[]> batch = journal.takeAll();
    List<byte[]> unconfirmed = batch;
    Exception lastFailure = null;
    try {
      List<Future<?>> sent = new ArrayList<>(batch.size());
      for (byte[] message : batch) {
        try {
          sent.add(producer.send(new ProducerRecord<>(topic, keyOf(message), message)));
        } catch (RuntimeException refused) {
          sent.add(CompletableFuture.failedFuture(refused));
        }
      }
      List<byte[]> notConfirmed = new ArrayList<>();
      for (int i = 0; i < batch.size(); i++) {
        try {
          sent.get(i).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          notConfirmed.addAll(batch.subList(i, batch.size()));
          break;
        } catch (ExecutionException | TimeoutException failure) {
          notConfirmed.add(batch.get(i));
          lastFailure = failure;
        }
      }
      unconfirmed = notConfirmed;
    } finally {
      journal.putBack(unconfirmed);
    }
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

  /**
   * The message's key id, its Kafka key. A journaled message this gateway cannot read (written by
   * another version, or damaged on disk) goes without a key rather than stay in the journal for
   * ever: the ledger's intake dead-letters it with the reason, where an operator sees it.
   */
  private static String keyOf(byte[] message) {
    try {
      return CloudEventCodec.decodeRequestCompleted(message).keyId();
    } catch (CloudEventCodec.MalformedEventException unreadable) {
      log.warn(
          "an event in the outbox journal is not a RequestCompleted this gateway can read ({});"
              + " it is sent without a key, for the ledger to dead-letter",
          unreadable.getMessage());
      return null;
    }
  }

  /**
   * Sends what the producer holds, and puts what Kafka refused in the journal; what Kafka did not
   * answer for stays in the event log.
   */
  @Override
  public void close() {
    drainer.shutdownNow();
    try {
      producer.flush();
      producer.close();
      keepRefused();
      if (!refused.isEmpty()) {
        List<Recorded> lost = refused.stream().filter(event -> event.slot() < 0).toList();
        log.error(
            "the outbox journal refused {} events at the stop; {} of them are in the event log for"
                + " the next start, {} are lost: {}",
            refused.size(),
            refused.size() - lost.size(),
            lost.size(),
            lost);
      }
    } finally {
      eventLog.close();
    }
  }
}
