package io.tollgate.gateway.edge;

import io.micrometer.core.instrument.MeterRegistry;
import io.tollgate.gateway.admission.Admission;
import io.tollgate.gateway.admission.BalanceView;
import io.tollgate.gateway.events.RequestOutbox;
import io.tollgate.gateway.proxy.AnswerUsage;
import io.tollgate.gateway.proxy.ProxyJson;
import io.tollgate.gateway.proxy.TokenEstimator;
import io.tollgate.gateway.routing.Routes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;
import tools.jackson.databind.ObjectMapper;

/**
 * The gateway's public port. {@code tollgate.gateway.port} and {@code tollgate.gateway.address} are
 * where callers reach it (the app sets them from {@code server.port} and {@code server.address},
 * and moves the web application to a free port on the loopback interface behind it).
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(
    name = "tollgate.gateway.enabled",
    havingValue = "true",
    matchIfMissing = true)
class EdgeConfiguration {

  /** Depends on the outbox, so that it is closed (and its queue published) before the outbox. */
  @Bean(destroyMethod = "close")
  EventHandOff<RequestOutbox.Recorded> eventHandOff(RequestOutbox outbox) {
    return new EventHandOff<>(outbox::send);
  }

  @Bean
  EdgeServer edgeServer(
      Admission admission,
      BalanceView balances,
      Routes routes,
      RequestOutbox outbox,
      EventHandOff<RequestOutbox.Recorded> events,
      MeterRegistry meters,
      WebServerApplicationContext webApp,
      ConfigurableEnvironment environment,
      @Value("${tollgate.gateway.address:}") String address,
      @Value("${tollgate.gateway.port:8000}") int port,
      @Value("${tollgate.gateway.event-loops:0}") int eventLoops,
      @Value("${tollgate.gateway.transport:auto}") String transport,
      @Value("${tollgate.gateway.connect-timeout:10s}") Duration connectTimeout,
      @Value("${tollgate.gateway.max-body-bytes:33554432}") int maxBodyBytes,
      @Value("${tollgate.gateway.upstream-ca-file:}") String upstreamAuthorities,
      @Value("${tollgate.gateway.shutdown-grace:25s}") Duration grace,
      @Value("${tollgate.gateway.idle-timeout:60s}") Duration idleTimeout) {
    ObjectMapper json = ProxyJson.mapper();
    ProxyContext proxy =
        new ProxyContext(
            admission,
            balances,
            routes,
            outbox,
            events,
            new Upstreams(
                Transport.named(transport),
                connectTimeout,
                upstreamAuthorities.isBlank() ? null : Path.of(upstreamAuthorities)),
            json,
            new AnswerUsage(json, new TokenEstimator()),
            new CallTimers(meters),
            maxBodyBytes,
            idleTimeout.toMillis(),
            new AtomicInteger());
    int threads = eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
    return new EdgeServer(
        proxy,
        address,
        port,
        threads,
        () -> webApp.getWebServer().getPort(),
        environment,
        grace,
        idleTimeout);
  }
}
