package io.tollgate.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tollgate.gateway.proxy.ProxyHandler;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Answers a proxied POST ahead of every other filter and of Spring MVC: the call needs none of
 * their work (request observation, character encoding, form parsing, handler mapping and argument
 * resolution), which cost more CPU per call than the proxying itself. Other methods go on to {@link
 * GatewayController}, which answers them as before.
 *
 * <p>Since Spring's {@code http.server.requests} no longer sees these calls, each one is timed into
 * {@value #METER}, tagged with its endpoint and the status the caller got, from the request's
 * arrival to its event handed to the outbox.
 */
final class ProxyFilter implements Filter {

  static final String METER = "tollgate.gateway.calls";

  private final ProxyHandler proxy;
  private final String endpoint;
  private final MeterRegistry meters;
  private final ConcurrentHashMap<Integer, Timer> timers = new ConcurrentHashMap<>();

  /**
   * @param endpoint "/chat/completions" or "/embeddings"
   */
  ProxyFilter(ProxyHandler proxy, String endpoint, MeterRegistry meters) {
    this.proxy = proxy;
    this.endpoint = endpoint;
    this.meters = meters;
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (request instanceof HttpServletRequest http
        && response instanceof HttpServletResponse answer
        && "POST".equals(http.getMethod())) {
      long start = System.nanoTime();
      try {
        proxy.handle(endpoint, http, answer);
      } finally {
        timer(answer.getStatus()).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
      return;
    }
    chain.doFilter(request, response);
  }

  /** One timer per status, built once: a builder per call would cost more than the recording. */
  private Timer timer(int status) {
    Timer timer = timers.get(status);
    if (timer != null) {
      return timer;
    }
    return timers.computeIfAbsent(
        status,
        code ->
            Timer.builder(METER)
                .description("proxied calls, from arrival to their event handed to the outbox")
                .tag("endpoint", "/v1" + endpoint)
                .tag("status", Integer.toString(code))
                .tag("outcome", outcome(code))
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
