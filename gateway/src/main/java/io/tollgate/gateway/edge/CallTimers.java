package io.tollgate.gateway.edge;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Times each proxied call into {@value #METER}, tagged with its endpoint, the status the caller got
 * and its outcome class, from the request's arrival to its event handed on for publishing. Spring's
 * {@code http.server.requests} never sees these calls: they do not pass through Spring MVC.
 */
final class CallTimers {

  static final String METER = "tollgate.gateway.calls";

  private record Tags(String endpoint, int status) {}

  private final MeterRegistry meters;
  private final ConcurrentHashMap<Tags, Timer> timers = new ConcurrentHashMap<>();

  CallTimers(MeterRegistry meters) {
    this.meters = meters;
  }

  /**
   * @param endpoint "/chat/completions" or "/embeddings"
   */
  void record(String endpoint, int status, long startNanos) {
    timer(endpoint, status).record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * One timer per endpoint and status, built once: a builder per call costs more than recording.
   */
  private Timer timer(String endpoint, int status) {
    Tags tags = new Tags(endpoint, status);
    Timer timer = timers.get(tags);
    if (timer != null) {
      return timer;
    }
    return timers.computeIfAbsent(
        tags,
        key ->
            Timer.builder(METER)
                .description("proxied calls, from arrival to their event handed on for publishing")
                .tag("endpoint", "/v1" + key.endpoint())
                .tag("status", Integer.toString(key.status()))
                .tag("outcome", outcome(key.status()))
                .register(meters));
  }

  /** The classes Spring's own request metric uses. */
  private static String outcome(int status) {
    if (status >= 500) {
      return "SERVER_ERROR";
    }
    if (status >= 400) {
      return "CLIENT_ERROR";
    }
    if (status >= 300) {
      return "REDIRECTION";
    }
    return status >= 200 ? "SUCCESS" : "INFORMATIONAL";
  }
}
