package io.tollgate.gateway.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.contracts.RequestCompleted;
import io.tollgate.gateway.events.TestRequests;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class EventHandOffTest {

  private static RequestCompleted request(String id) {
    return TestRequests.completed(id, "sk-hand-off");
  }

  private static void awaitState(EventHandOff<?> handOff, Thread.State state) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (handOff.publisherState() != state && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
    assertThat(handOff.publisherState()).isEqualTo(state);
  }

  @Test
  void anIdlePublisherSleepsUntilAnEventWakesItAndThenPublishesIt() throws Exception {
    BlockingQueue<RequestCompleted> published = new LinkedBlockingQueue<>();
    try (EventHandOff<RequestCompleted> handOff = new EventHandOff<>(published::add)) {
      // Nothing to publish: the publisher parks without a deadline instead of looking every tick.
      awaitState(handOff, Thread.State.WAITING);

      handOff.publish(request("req-1"));
      assertThat(published.poll(5, TimeUnit.SECONDS))
          .extracting(RequestCompleted::requestId)
          .isEqualTo("req-1");

      // Having found nothing at its next look, it sleeps again.
      awaitState(handOff, Thread.State.WAITING);
      handOff.publish(request("req-2"));
      assertThat(published.poll(5, TimeUnit.SECONDS))
          .extracting(RequestCompleted::requestId)
          .isEqualTo("req-2");
    }
  }

  @Test
  void everyEventFromManyThreadsIsPublishedOnceThoughThePublisherKeepsFallingAsleep()
      throws Exception {
    Set<String> published = ConcurrentHashMap.newKeySet();
    Queue<String> twice = new ConcurrentLinkedQueue<>();
    int threads = 4;
    int perThread = 2_000;
    try (EventHandOff<RequestCompleted> handOff =
        new EventHandOff<>(
            event -> {
              if (!published.add(event.requestId())) {
                twice.add(event.requestId());
              }
            })) {
      List<Thread> callers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int caller = t;
        Thread thread =
            new Thread(
                () -> {
                  for (int n = 0; n < perThread; n++) {
                    handOff.publish(request(caller + "-" + n));
                    // Pauses longer than a tick now and then, so the publisher goes to sleep and
                    // is woken by a call many times over.
                    if (n % 50 == 0) {
                      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(7));
                    }
                  }
                });
        thread.start();
        callers.add(thread);
      }
      for (Thread caller : callers) {
        caller.join();
      }
      // A lost wake-up would leave the last events queued behind a sleeping publisher.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (published.size() < threads * perThread && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
      assertThat(published).hasSize(threads * perThread);
      assertThat(twice).isEmpty();
    }
  }

  @Test
  void closingPublishesWhatIsStillQueued() {
    List<String> published = new ArrayList<>();
    EventHandOff<RequestCompleted> handOff =
        new EventHandOff<>(
            event -> {
              synchronized (published) {
                published.add(event.requestId());
              }
            });
    for (int n = 0; n < 1_000; n++) {
      handOff.publish(request("req-" + n));
    }
    handOff.close();
    synchronized (published) {
      assertThat(published).hasSize(1_000).doesNotHaveDuplicates();
    }
  }

  @Test
  void aFailingPublishIsLoggedAndTheNextEventIsStillPublished() throws Exception {
    BlockingQueue<String> published = new LinkedBlockingQueue<>();
    try (EventHandOff<RequestCompleted> handOff =
        new EventHandOff<>(
            event -> {
              if (event.requestId().equals("req-bad")) {
                throw new IllegalStateException("a bug in the outbox");
              }
              published.add(event.requestId());
            })) {
      handOff.publish(request("req-bad"));
      handOff.publish(request("req-good"));
      assertThat(published.poll(5, TimeUnit.SECONDS)).isEqualTo("req-good");
    }
  }
}
