package io.tollgate.projections;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.tollgate.projections.query.ViewQueries;
import io.tollgate.projections.status.DirectReplay;
import io.tollgate.projections.status.ViewRebuild;
import io.tollgate.projections.status.ViewStatus;
import io.tollgate.projections.views.JdbcViewStore;
import io.tollgate.projections.views.LedgerViews;
import java.time.Clock;
import java.time.Duration;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.config.ConfigurerModule;
import org.axonframework.config.EventProcessingConfiguration;
import org.axonframework.eventhandling.PropagatingErrorHandler;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.json.JacksonSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The read side: the views processor and its tables, their queries, rebuild, lag metric and health.
 * A gateway-only node switches it off with {@code tollgate.projections.enabled=false}.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(
    name = "tollgate.projections.enabled",
    havingValue = "true",
    matchIfMissing = true)
public class ProjectionsConfiguration {

  private static final Logger log = LoggerFactory.getLogger(ProjectionsConfiguration.class);

  @Bean
  JdbcViewStore jdbcViewStore(JdbcTemplate jdbc) {
    return new JdbcViewStore(jdbc);
  }

  @Bean
  LedgerViews ledgerViews(JdbcViewStore store) {
    return new LedgerViews(store);
  }

  @Bean
  ViewQueries viewQueries(JdbcTemplate jdbc) {
    return new ViewQueries(jdbc);
  }

  /**
   * A pooled streaming processor with one segment by default: the views are a single ordered writer
   * whose batches do the heavy lifting, and on two cores more segments only add contention (Axon's
   * default of 16 cost about 40% of the ledger's throughput here). Handler errors stop the segment
   * and retry it instead of skipping the event, because a skipped event is a wrong balance.
   */
  @Bean
  ViewsExecutors viewsExecutors(@Value("${tollgate.projections.segments:1}") int segments) {
    return new ViewsExecutors(segments);
  }

  @Bean
  ConfigurerModule viewsProcessor(
      TransactionManager transactions,
      ViewsExecutors executors,
      @Value("${tollgate.projections.segments:1}") int segments,
      @Value("${tollgate.projections.batch-size:1000}") int batchSize,
      @Value("${tollgate.projections.token-claim-interval-ms:5000}") long claimInterval) {
    return configurer ->
        configurer.eventProcessing(
            processing ->
                processing
                    .registerPooledStreamingEventProcessor(
                        LedgerViews.PROCESSOR,
                        org.axonframework.config.Configuration::eventStore,
                        (config, builder) ->
                            builder
                                .transactionManager(transactions)
                                .initialSegmentCount(segments)
                                .maxClaimedSegments(segments)
                                .batchSize(batchSize)
                                .tokenClaimInterval(claimInterval)
                                .coordinatorExecutor(executors.coordinator())
                                .workerExecutor(executors.workers()))
                    .registerListenerInvocationErrorHandler(
                        LedgerViews.PROCESSOR, config -> PropagatingErrorHandler.instance()));
  }

  @Bean
  ViewStatus viewStatus(
      EventProcessingConfiguration processing,
      LedgerViews views,
      JdbcTemplate jdbc,
      Serializer serializer) {
    // The serializer the token store writes tokens with (LedgerStorageAutoConfiguration).
    return new ViewStatus(processing, views, jdbc, serializer, Clock.systemUTC());
  }

  /**
   * {@code tollgate.projections.rebuild-mode}: {@code direct} (default) replays the event store
   * straight into the views in one transaction, {@code processor} lets the processor replay it.
   */
  @Bean
  ViewRebuild viewRebuild(
      ViewStatus status,
      JdbcTemplate jdbc,
      JdbcViewStore store,
      @Qualifier("eventSerializer") Serializer serializer,
      PlatformTransactionManager transactions,
      @Value("${tollgate.projections.rebuild-mode:direct}") String mode,
      @Value("${tollgate.projections.rebuild-chunk:4096}") int chunk,
      @Value("${tollgate.projections.rebuild-index-memory:512MB}") String indexMemory) {
    DirectReplay direct =
        switch (mode) {
          case "direct" ->
              new DirectReplay(jdbc, store, objectMapper(serializer), chunk, indexMemory);
          case "processor" -> null;
          default ->
              throw new IllegalArgumentException(
                  "tollgate.projections.rebuild-mode must be direct or processor, got " + mode);
        };
    return new ViewRebuild(
        status, Clock.systemUTC(), direct, new TransactionTemplate(transactions));
  }

  private static ObjectMapper objectMapper(Serializer serializer) {
    if (serializer instanceof JacksonSerializer jackson) {
      return jackson.getObjectMapper();
    }
    throw new IllegalStateException(
        "the direct rebuild reads events written by Jackson; the event serializer is "
            + serializer.getClass().getName()
            + " (set tollgate.projections.rebuild-mode=processor)");
  }

  /**
   * {@code tollgate.projection.lag}: seconds between now and the newest event the views applied.
   */
  @Bean
  MeterBinder viewsLagMetric(ViewStatus status) {
    return registry ->
        Gauge.builder("tollgate.projection.lag", status, s -> s.lag().toMillis() / 1000.0)
            .tag("processor", LedgerViews.PROCESSOR)
            .baseUnit("seconds")
            .description(
                "now minus the storage time of the newest event the views applied; 0 when caught up")
            .register(registry);
  }

  @Bean
  MeterBinder unknownEventsMetric(LedgerViews views) {
    return registry ->
        FunctionCounter.builder(
                "tollgate.projection.unknown.events", views, LedgerViews::unknownEvents)
            .tag("processor", LedgerViews.PROCESSOR)
            .description(
                "events of types this build does not know, passed over by the views; rebuild them"
                    + " with a build that knows the types")
            .register(registry);
  }

  /** {@code views} in the health endpoint: down when the processor is in error or lags too far. */
  @Bean
  HealthIndicator viewsHealthIndicator(
      ViewStatus status, @Value("${tollgate.projections.max-lag:PT5M}") Duration maxLag) {
    return () -> {
      Duration lag = status.lag();
      boolean error = status.inError();
      Health.Builder health = error || lag.compareTo(maxLag) > 0 ? Health.down() : Health.up();
      return health
          .withDetail("processor", LedgerViews.PROCESSOR)
          .withDetail("lag_seconds", lag.toMillis() / 1000.0)
          .withDetail("position", status.position().orElse(-1))
          .withDetail("head", status.head())
          .withDetail("replaying", status.isReplaying())
          .withDetail("error", error)
          .build();
    };
  }

  /** {@code --rebuild-views} on the command line rebuilds every view once the application is up. */
  @Bean
  ApplicationListener<ApplicationReadyEvent> rebuildViewsOnStart(
      ApplicationArguments arguments,
      ViewRebuild rebuild,
      @Value("${tollgate.projections.rebuild-on-start:false}") boolean fromProperty) {
    return event -> {
      if (fromProperty || arguments.containsOption("rebuild-views")) {
        log.info("--rebuild-views: rebuilding every view from the event store");
        rebuild.start();
      }
    };
  }
}
