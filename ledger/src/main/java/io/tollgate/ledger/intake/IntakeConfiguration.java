package io.tollgate.ledger.intake;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tollgate.config.ApiConfig;
import io.tollgate.ledger.account.KeyAccount;
import io.tollgate.ledger.infrastructure.CommandBatcher;
import io.tollgate.ledger.infrastructure.KeyConfigSync;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.axonframework.eventsourcing.eventstore.EventStore;
import org.axonframework.modelling.command.Repository;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.ContainerProperties.AckMode;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.FixedBackOff;

/**
 * The ledger's side of Kafka: the topics, the batch consumer of finished calls, the dead-letter
 * producer and the balance publisher. On with the ledger role.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(
    name = {"tollgate.ledger.enabled", "tollgate.ledger.intake.enabled"},
    havingValue = "true",
    matchIfMissing = true)
public class IntakeConfiguration {

  /*
   * The topics are created with the cluster's own replication factor (its
   * default.replication.factor) unless tollgate.kafka.replicas names one. The fixed factor of one
   * they had before gave the production topology's three brokers one copy of each partition: one
   * broker down stopped a third of the calls' events, and its disk lost would have lost them.
   */

  @Bean
  NewTopic requestsTopic(
      @Value("${tollgate.kafka.requests-topic}") String name,
      @Value("${tollgate.kafka.partitions:3}") int partitions,
      @Value("${tollgate.kafka.replicas:0}") short replicas) {
    return new NewTopic(name, Optional.of(partitions), replication(replicas));
  }

  @Bean
  NewTopic deadLetterTopic(
      @Value("${tollgate.kafka.dead-letter-topic}") String name,
      @Value("${tollgate.kafka.replicas:0}") short replicas) {
    return new NewTopic(name, Optional.of(1), replication(replicas));
  }

  /** Compacted: only each key's latest balance matters, so a new gateway reads one per key. */
  @Bean
  NewTopic balancesTopic(
      @Value("${tollgate.kafka.balances-topic}") String name,
      @Value("${tollgate.kafka.partitions:3}") int partitions,
      @Value("${tollgate.kafka.replicas:0}") short replicas) {
    return new NewTopic(name, Optional.of(partitions), replication(replicas))
        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
  }

  /** Empty, so the cluster's default applies, unless a positive factor is configured. */
  private static Optional<Short> replication(short replicas) {
    return replicas > 0 ? Optional.of(replicas) : Optional.empty();
  }

  /** A bean of its own so that the context closes it, before the broker it talks to. */
  @Bean
  DefaultKafkaProducerFactory<String, byte[]> ledgerProducerFactory(KafkaConnectionDetails kafka) {
    Map<String, Object> settings = new HashMap<>();
    settings.put(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getProducer().getBootstrapServers());
    settings.put(ProducerConfig.ACKS_CONFIG, "all");
    settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    settings.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    return new DefaultKafkaProducerFactory<>(
        settings, new StringSerializer(), new ByteArraySerializer());
  }

  @Bean
  KafkaTemplate<String, byte[]> ledgerKafkaTemplate(
      DefaultKafkaProducerFactory<String, byte[]> ledgerProducerFactory) {
    return new KafkaTemplate<>(ledgerProducerFactory);
  }

  /**
   * Batches of up to {@code max-batch} records; offsets are committed after the listener returns,
   * that is after the batch's charges are committed. A batch the ledger cannot store is retried
   * every second for as long as it takes: skipping it would lose charges.
   *
   * <p>Three consumers by default, one per partition of the default topic: each charges its own
   * keys, so one decodes and dispatches while another waits for its commit. With one, the intake
   * thread sat idle through every commit: a ledger-only node charged 7,561 and 7,645 requests per
   * second flat out against 9,020 and 9,129 with three (bench/README.md). On a node that also runs
   * the views, the charges gain as much and the views fall behind under such load (they catch up
   * after it): the balances the gateways admit against come from the charges, so those go first.
   * Consumers beyond the partitions a node is given stay idle.
   */
  @Bean
  ConcurrentKafkaListenerContainerFactory<String, byte[]> intakeContainerFactory(
      KafkaConnectionDetails kafka,
      @Value("${tollgate.ledger.intake.max-batch:2000}") int maxBatch,
      @Value("${tollgate.ledger.intake.consumers:3}") int consumers) {
    Map<String, Object> settings = new HashMap<>();
    settings.put(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getConsumer().getBootstrapServers());
    settings.put(ConsumerConfig.GROUP_ID_CONFIG, "tollgate-ledger");
    settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    settings.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxBatch);
    settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    ConcurrentKafkaListenerContainerFactory<String, byte[]> factory =
        new ConcurrentKafkaListenerContainerFactory<>();
    factory.setConsumerFactory(
        new DefaultKafkaConsumerFactory<>(
            settings, new StringDeserializer(), new ByteArrayDeserializer()));
    factory.setBatchListener(true);
    factory.setConcurrency(consumers);
    factory.getContainerProperties().setAckMode(AckMode.BATCH);
    factory.setCommonErrorHandler(
        new DefaultErrorHandler(new FixedBackOff(1000, FixedBackOff.UNLIMITED_ATTEMPTS)));
    factory.setAutoStartup(false);
    return factory;
  }

  @Bean
  RequestIntake requestIntake(
      CommandBatcher batcher,
      KafkaTemplate<String, byte[]> ledgerKafkaTemplate,
      @Value("${tollgate.kafka.dead-letter-topic}") String deadLetterTopic,
      ObjectProvider<MeterRegistry> meters) {
    return new RequestIntake(
        batcher,
        ledgerKafkaTemplate,
        deadLetterTopic,
        Clock.systemUTC(),
        meters.getIfAvailable(SimpleMeterRegistry::new));
  }

  /** Balances follow commits in the committing thread: no token, no lag, no replay at start. */
  @Bean(destroyMethod = "close")
  BalancePublisher balancePublisher(
      @Qualifier("keyAccountRepository") Repository<KeyAccount> accounts,
      EventStore events,
      KafkaTemplate<String, byte[]> ledgerKafkaTemplate,
      @Value("${tollgate.kafka.balances-topic}") String topic,
      @Value("${tollgate.ledger.balance-interval-ms:100}") long interval) {
    BalancePublisher balances =
        new BalancePublisher(accounts, ledgerKafkaTemplate, topic, Clock.systemUTC(), interval);
    balances.subscribeTo(events);
    return balances;
  }

  @Bean
  IntakeStarter intakeStarter(
      KeyConfigSync keys,
      ApiConfig config,
      BalancePublisher balances,
      KafkaListenerEndpointRegistry listeners) {
    return new IntakeStarter(keys, config, balances, listeners);
  }
}
