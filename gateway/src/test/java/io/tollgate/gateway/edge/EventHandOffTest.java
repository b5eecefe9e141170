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
import java.util.concurrent.CountDownLatch;
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
    try (EventHandOff<RequestCompleted> handOff = new EventHandOff<>(published::addAll)) {
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
            batch -> {
              for (RequestCompleted event : batch) {
                if (!published.add(event.requestId())) {
                  twice.add(event.requestId());
                }
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
            batch -> {
              synchronized (published) {
                batch.forEach(event -> published.add(event.requestId()));
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

  /**
   * A batch the sink fails on is handed over again one event at a time: the bad event is logged and
   * the good one in the same batch is published. The first batch is held until both are queued, so
   * they are sure to share the next.
   */
  @Test
  void aFailingPublishIsLoggedAndTheOtherEventsOfItsBatchAreStillPublished() throws Exception {
    BlockingQueue<String> published = new LinkedBlockingQueue<>();
    CountDownLatch firstTaken = new CountDownLatch(1);
    CountDownLatch bothQueued = new CountDownLatch(1);
    try (EventHandOff<RequestCompleted> handOff =
        new EventHandOff<>(
            batch -> {
              firstTaken.countDown();
              awaitQuietly(bothQueued);
              for (RequestCompleted event : batch) {
                if (event.requestId().equals("req-bad")) {
                  throw new IllegalStateException("a bug in the outbox");
                }
              }
              batch.forEach(event -> published.add(event.requestId()));
            })) {
      handOff.publish(request("req-first"));
      assertThat(firstTaken.await(5, TimeUnit.SECONDS)).isTrue();
      handOff.publish(request("req-bad"));
      handOff.publish(request("req-good"));
      bothQueued.countDown();
      assertThat(published.poll(5, TimeUnit.SECONDS)).isEqualTo("req-first");
      assertThat(published.poll(5, TimeUnit.SECONDS)).isEqualTo("req-good");
    }
  }

  /**
   * A backlog (the publisher busy with a batch while events keep coming) is handed on in batches of
   * at most {@link EventHandOff#MAX_BATCH}, oldest first, each event once.
   */
  @Test
  void aBacklogIsHandedOnInBatchesOfBoundedSizeInOrder() throws Exception {
    List<List<String>> batches = new ArrayList<>();
    CountDownLatch firstTaken = new CountDownLatch(1);
    CountDownLatch backlogQueued = new CountDownLatch(1);
    int backlog = EventHandOff.MAX_BATCH * 2 + 100;
    try (EventHandOff<RequestCompleted> handOff =
        new EventHandOff<>(
            batch -> {
              firstTaken.countDown();
              awaitQuietly(backlogQueued);
              synchronized (batches) {
                batches.add(batch.stream().map(RequestCompleted::requestId).toList());
              }
            })) {
      handOff.publish(request("req-first"));
      assertThat(firstTaken.await(5, TimeUnit.SECONDS)).isTrue();
      for (int n = 0; n < backlog; n++) {
        handOff.publish(request("req-" + n));
      }
      backlogQueued.countDown();
    }
    List<String> inOrder = new ArrayList<>();
    for (int n = 0; n < backlog; n++) {
      inOrder.add("req-" + n);
    }
    synchronized (batches) {
      assertThat(batches.get(0)).containsExactly("req-first");
      assertThat(batches.subList(1, batches.size()))
          .extracting(List::size)
          .containsExactly(EventHandOff.MAX_BATCH, EventHandOff.MAX_BATCH, 100);
      assertThat(batches.subList(1, batches.size()).stream().flatMap(List::stream))
          .containsExactlyElementsOf(inOrder);
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
