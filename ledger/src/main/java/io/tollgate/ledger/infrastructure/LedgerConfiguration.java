package io.tollgate.ledger.infrastructure;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tollgate.config.ApiConfig;
import io.tollgate.ledger.account.KeyAccount;
import io.tollgate.ledger.pricing.PriceBook;
import java.time.Instant;
import java.util.Map;
import org.axonframework.commandhandling.gateway.CommandGateway;
import org.axonframework.common.caching.Cache;
import org.axonframework.common.transaction.TransactionManager;
import org.axonframework.eventsourcing.EventCountSnapshotTriggerDefinition;
import org.axonframework.eventsourcing.SnapshotTriggerDefinition;
import org.axonframework.eventsourcing.Snapshotter;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.messaging.correlation.CorrelationDataProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

/** Wires the ledger: Axon's storage in PostgreSQL, prices, idempotency, batching. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(
    name = "tollgate.ledger.enabled",
    havingValue = "true",
    matchIfMissing = true)
public class LedgerConfiguration {

  private static final Logger log = LoggerFactory.getLogger(LedgerConfiguration.class);

  /**
   * Axon 4 serialises with Jackson 2. Times are written as ISO text so the event store can be read
   * by a person, by {@link UtcInstantSerializer}, and read back by {@link UtcInstantDeserializer};
   * unknown properties are ignored so an older node can read a newer event.
   */
  @Bean("defaultAxonObjectMapper")
  ObjectMapper defaultAxonObjectMapper() {
    return new ObjectMapper()
        .findAndRegisterModules()
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .enable(SerializationFeature.WRITE_BIGDECIMAL_AS_PLAIN)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .registerModule(
            new SimpleModule("tollgate-instants")
                .addSerializer(Instant.class, new UtcInstantSerializer())
                .addDeserializer(Instant.class, new UtcInstantDeserializer()));
  }

  /**
   * Replaces Axon's default {@code MessageOriginProvider}, which copies the handled message's id
   * into every new message's metadata as {@code traceId} and {@code correlationId}. For a charge
   * that id is the charge command's own random one, which nothing records or reads (the request id
   * is in the event itself), yet it cost 105 of each stored event's 900 bytes, a metadata
   * serialisation per event, and a map built per message. Events now carry empty metadata.
   */
  @Bean
  CorrelationDataProvider noCorrelationData() {
    return message -> Map.of();
  }

  @Bean
  PriceBook priceBook(ApiConfig config) {
    PriceBook prices = new PriceBook(config.prices());
    if (!prices.countBillingEnabled()) {
      log.warn(
          "count_billing.enabled is false in {}: count and hybrid keys are charged by tokens",
          config.source());
    }
    log.info("prices from {} are version {}", config.source(), prices.version());
    return prices;
  }

  /**
   * A snapshot every {@code threshold} events bounds what loading an evicted account replays; the
   * cache means a busy account is not loaded at all.
   */
  @Bean
  SnapshotTriggerDefinition keyAccountSnapshotTrigger(
      @Qualifier("keyAccountSnapshotter") Snapshotter snapshotter,
      @Value("${tollgate.ledger.snapshot-every:250}") int threshold) {
    return new EventCountSnapshotTriggerDefinition(snapshotter, threshold);
  }

  /**
   * Dependent on the transaction manager only so that the context stops this thread before it
   * closes the database under it.
   */
  @Bean(destroyMethod = "close")
  SnapshotThread ledgerSnapshotThread(TransactionManager transactions) {
    return new SnapshotThread();
  }

  /**
   * Snapshots of accounts taken from the state in the cache rather than by reading the events back,
   * and on {@link SnapshotThread} rather than in the thread that committed the triggering event.
   */
  @Bean
  CachedStateSnapshotter keyAccountSnapshotter(
      org.axonframework.config.Configuration axon,
      EventStore eventStore,
      TransactionManager transactions,
      SnapshotThread snapshotThread,
      ObjectProvider<MeterRegistry> meters) {
    return new CachedStateSnapshotter(
        () -> axon.repository(KeyAccount.class),
        eventStore,
        transactions,
        snapshotThread.executor(),
        meters.getIfAvailable(SimpleMeterRegistry::new));
  }

  @Bean
  Cache keyAccountCache(@Value("${tollgate.ledger.cached-accounts:100000}") int capacity) {
    return new LruAggregateCache(capacity);
  }

  @Bean
  JdbcRequestIdRegistry requestIdRegistry(JdbcTemplate jdbc) {
    return new JdbcRequestIdRegistry(jdbc);
  }

  @Bean
  KeyCommandTargetResolver keyCommandTargetResolver() {
    return new KeyCommandTargetResolver();
  }

  @Bean
  CommandBatcher commandBatcher(
      CommandGateway commands, TransactionManager transactions, JdbcRequestIdRegistry requestIds) {
    return new CommandBatcher(commands, transactions, requestIds::claimBatch);
  }

  @Bean
  KeyConfigSync keyConfigSync(ApiConfig config, CommandBatcher batcher) {
    return new KeyConfigSync(config, batcher);
  }
}
