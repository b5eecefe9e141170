package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.app.kafka.InProcessKafkaBroker;
import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.KeyBalance;
import io.tollgate.contracts.KeyIds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A balance Kafka does not take is published again once it does. The ledger's start publishes every
 * key's balance; here the balance topic first refuses every message, and those balances must reach
 * it once it takes them, with no new event on any key. Without the retry a key topped up during an
 * outage stayed refused by the gateways: with no calls let through, no event would ever publish it
 * again.
 *
 * <p>An outage fails a send only after the producer's delivery timeout (two minutes); the topic
 * refuses at once instead, by taking no message stamped before the moment it arrives ({@code
 * message.timestamp.before.max.ms} 0: a record waits at least the producer's linger), an error
 * Kafka's producer does not retry, as it gives up on an outage's sends when their time is up.
 */
class BalanceRepublishTest {

  private static final String TOPIC = "tollgate.balances";

  @TempDir Path dir;

  @Test
  void balancesKafkaRefusedAreSentOnceItTakesThem() throws Exception {
    try (InProcessKafkaBroker kafka = InProcessKafkaBroker.start(dir.resolve("kafka"), 1, 0);
        Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(TOPIC, 1, (short) 1)
                      .configs(
                          Map.of(
                              TopicConfig.CLEANUP_POLICY_CONFIG,
                              TopicConfig.CLEANUP_POLICY_COMPACT,
                              TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG,
                              "0"))))
          .all()
          .get(30, TimeUnit.SECONDS);
      Path config = dir.resolve("api.yaml");
      Files.writeString(config, E2eConfig.yaml("http://127.0.0.1:9/v1/chat/completions"));
      try (ConfigurableApplicationContext ledger =
              TestNodes.start(
                  config,
                  dir.resolve("data"),
                  "--tollgate.roles=ledger,projections",
                  "--tollgate.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                  "--spring.kafka.bootstrap-servers=" + kafka.bootstrapServers());
          KafkaConsumer<String, byte[]> consumer = consumer(kafka.bootstrapServers())) {
        String key = KeyIds.of("sk-e2e-two");
        assertThat(read(consumer, key, Duration.ofSeconds(3)))
            .as("balances while the topic refuses them")
            .isEmpty();

        admin
            .incrementalAlterConfigs(
                Map.of(
                    new ConfigResource(ConfigResource.Type.TOPIC, TOPIC),
                    List.of(
                        new AlterConfigOp(
                            new ConfigEntry(TopicConfig.MESSAGE_TIMESTAMP_BEFORE_MAX_MS_CONFIG, ""),
                            AlterConfigOp.OpType.DELETE))))
            .all()
            .get(30, TimeUnit.SECONDS);
        Map<String, KeyBalance> published = read(consumer, key, Duration.ofSeconds(60));
        assertThat(published).containsKey(key);
        assertThat(published.get(key).requestsLeft()).isEqualTo(2L);
      }
    }
  }

  /** The balances read until {@code key}'s arrives or {@code within} passes, by key id. */
  private static Map<String, KeyBalance> read(
      KafkaConsumer<String, byte[]> consumer, String key, Duration within) {
    Map<String, KeyBalance> balances = new HashMap<>();
    long deadline = System.nanoTime() + within.toNanos();
    while (!balances.containsKey(key) && System.nanoTime() < deadline) {
      for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
        KeyBalance balance = CloudEventCodec.decodeKeyBalance(record.value());
        balances.put(balance.keyId(), balance);
      }
    }
    return balances;
  }

  private static KafkaConsumer<String, byte[]> consumer(String bootstrap) {
    KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "balance-test",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
            new StringDeserializer(),
            new ByteArrayDeserializer());
    consumer.subscribe(List.of(TOPIC));
    return consumer;
  }
}
