package io.tollgate.projections;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.axonframework.common.AxonThreadFactory;

/**
 * The views processor's threads. Axon does not shut down executors it was given, so this bean does
 * it when the application closes, after Axon's lifecycle stopped the processor; without it the JVM
 * would not exit.
 */
public final class ViewsExecutors implements AutoCloseable {

  private final ScheduledExecutorService coordinator;
  private final ScheduledExecutorService workers;

  public ViewsExecutors(int segments) {
    this.coordinator =
        Executors.newScheduledThreadPool(1, new AxonThreadFactory("views-coordinator"));
    this.workers =
        Executors.newScheduledThreadPool(segments, new AxonThreadFactory("views-worker"));
  }

  public ScheduledExecutorService coordinator() {
    return coordinator;
  }

  public ScheduledExecutorService workers() {
    return workers;
  }

  @Override
  public void close() {
    coordinator.shutdownNow();
    workers.shutdownNow();
  }
}
