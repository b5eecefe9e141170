package io.tollgate.ledger.infrastructure;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one thread the ledger takes snapshots on. Not an {@link Executor} bean itself, so that Spring
 * Boot's own task executor is not replaced by it.
 *
 * <p>Its queue holds the snapshot requests waiting to be taken, run one at a time in the order they
 * came, so an account's newer snapshot is never written before an older one. Tasks still queued at
 * shutdown are dropped: a snapshot only shortens the next load.
 */
public class SnapshotThread implements AutoCloseable {

  private final ExecutorService executor =
      new ThreadPoolExecutor(
          1,
          1,
          0,
          TimeUnit.MILLISECONDS,
          new LinkedBlockingQueue<>(),
          task -> {
            Thread thread = new Thread(task, "ledger-snapshots");
            thread.setDaemon(true);
            return thread;
          });

  public Executor executor() {
    return executor;
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
