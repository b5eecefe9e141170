package io.tollgate.gateway.edge;

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
 */
final class EventHandOff<E> implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EventHandOff.class);

  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final Consumer<E> sink;
  private final Queue<E> queue = new ConcurrentLinkedQueue<>();
  private final Thread publisher;

  /** Set by the publisher before it sleeps; whoever clears it wakes the publisher. */
  private final AtomicBoolean asleep = new AtomicBoolean();

  private volatile boolean running = true;

  /** {@code sink} publishes one event (the outbox); it is only ever called from one thread. */
  EventHandOff(Consumer<E> sink) {
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

  /** Publishes everything queued; whether there was anything. */
  private boolean drain() {
    boolean any = false;
    E event;
    while ((event = queue.poll()) != null) {
      any = true;
      try {
        sink.accept(event);
      } catch (RuntimeException failure) {
        // The outbox keeps what Kafka refuses; anything else is a bug, not a reason to stop.
        log.error("publishing {} failed", event, failure);
      }
    }
    return any;
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
