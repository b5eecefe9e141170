package io.tollgate.gateway.edge;

import io.tollgate.contracts.RequestCompleted;
import io.tollgate.gateway.events.RequestOutbox;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes finished calls' events off the event loops and publishes them from one thread of its own.
 * Kafka's producer can block its caller (up to {@code max.block.ms} while it has no metadata for
 * the topic, or while its buffer is full) and the outbox journal forces every append to disk; on an
 * event loop either would stall every call on that thread.
 *
 * <p>The event loops only add to a queue and never wake the publisher: it looks every 5 ms, which
 * costs it two hundred short wake-ups a second instead of a wake-up per call, and adds at most 5 ms
 * to an event's way to Kafka beside the producer's 20 ms linger. An event is in this queue for
 * those milliseconds before the producer holds it; like the producer's own buffer, the queue is
 * lost if the JVM dies in that moment, and is emptied on an orderly stop.
 */
final class EventHandOff implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EventHandOff.class);

  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final RequestOutbox outbox;
  private final Queue<RequestCompleted> queue = new ConcurrentLinkedQueue<>();
  private final Thread publisher;
  private volatile boolean running = true;

  EventHandOff(RequestOutbox outbox) {
    this.outbox = outbox;
    this.publisher = new Thread(this::run, "gateway-event-publisher");
    publisher.setDaemon(true);
    publisher.start();
  }

  void publish(RequestCompleted event) {
    queue.add(event);
  }

  private void run() {
    while (running) {
      drain();
      LockSupport.parkNanos(TICK_NANOS);
    }
    drain();
  }

  private void drain() {
    RequestCompleted event;
    while ((event = queue.poll()) != null) {
      try {
        outbox.publish(event);
      } catch (RuntimeException failure) {
        // The outbox keeps what Kafka refuses; anything else is a bug, not a reason to stop.
        log.error("publishing {} failed", event.requestId(), failure);
      }
    }
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
