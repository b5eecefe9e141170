package io.tollgate.gateway.edge;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes finished calls' events off the event loops and publishes them from one thread of its own.
 * Kafka's producer can block its caller (up to {@code max.block.ms} while it has no metadata for
 * the topic, or while its buffer is full) and the outbox journal forces every append to disk; on an
 * event loop either would stall every call on that thread.
 *
 * <p>While calls finish, the publisher looks every 5 ms and the event loops only add to a queue:
 * two hundred short wake-ups a second instead of a wake-up per call, and at most 5 ms added to an
 * event's way to Kafka beside the producer's 20 ms linger. When a look finds nothing the publisher
 * sleeps until the next event wakes it, so an idle gateway does not wake at all. An event is in
 * this queue for those milliseconds before the producer holds it; the queue is emptied on an
 * orderly stop, and an event in it when the process dies is in the outbox's event log.
 *
 * <p>Each look hands the sink everything queued as one batch, so that the events the outbox must
 * keep on disk cost one forced write per look rather than one per event. Should the sink fail on a
 * batch, its events are handed over again one at a time, so that one bad event costs no other.
 */
final class EventHandOff<E> implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EventHandOff.class);

  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  /** At most this many events per batch: a backlog is handed on in pieces, not in one list. */
  static final int MAX_BATCH = 1024;

  private final Consumer<List<E>> sink;
  private final Queue<E> queue = new ConcurrentLinkedQueue<>();
  private final Thread publisher;

  /** Set by the publisher before it sleeps; whoever clears it wakes the publisher. */
  private final AtomicBoolean asleep = new AtomicBoolean();

  private volatile boolean running = true;

  /**
   * {@code sink} publishes a batch of events, oldest first (the outbox); it is only ever called
   * from one thread.
   */
  EventHandOff(Consumer<List<E>> sink) {
    this.sink = sink;
    this.publisher = new Thread(this::run, "gateway-event-publisher");
    publisher.setDaemon(true);
    publisher.start();
  }

  void publish(E event) {
    queue.add(event);
    if (asleep.get() && asleep.compareAndSet(true, false)) {
      LockSupport.unpark(publisher);
    }
  }

  private void run() {
    while (running) {
      if (drain()) {
        LockSupport.parkNanos(TICK_NANOS);
        continue;
      }
      // Say so before the last look: an event added after that look sees the flag and wakes us.
      asleep.set(true);
      if (queue.isEmpty() && running) {
        LockSupport.park(this);
      }
      asleep.set(false);
    }
    drain();
  }

  /** Publishes everything queued, in batches; whether there was anything. */
  private boolean drain() {
    boolean any = false;
    E event;
    while ((event = queue.poll()) != null) {
      any = true;
      List<E> batch = new ArrayList<>();
      do {
        batch.add(event);
      } while (batch.size() < MAX_BATCH && (event = queue.poll()) != null);
      publish(batch);
    }
    return any;
  }

  private void publish(List<E> batch) {
    try {
      sink.accept(batch);
    } catch (RuntimeException batchFailure) {
      log.warn("publishing {} events failed; trying each alone", batch.size(), batchFailure);
      // The outbox keeps what Kafka refuses; anything else is a bug, not a reason to stop, nor to
      // give up the batch's other events: each is tried alone (a second send is harmless, the
      // ledger charges a request id once).
      for (E one : batch) {
        try {
          sink.accept(List.of(one));
        } catch (RuntimeException failure) {
          log.error("publishing {} failed", one, failure);
        }
      }
    }
  }

  /** For tests: how the publisher waits (WAITING while it sleeps, TIMED_WAITING between looks). */
  Thread.State publisherState() {
    return publisher.getState();
  }

  /** Publishes what is still queued; the outbox is closed after this. */
  @Override
  public void close() {
    running = false;
    LockSupport.unpark(publisher);
    try {
      publisher.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
