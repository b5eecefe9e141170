package io.tollgate.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.tollgate.config.ApiConfig;
import io.tollgate.gateway.admission.Admission;
import io.tollgate.gateway.admission.BalanceView;
import io.tollgate.gateway.admission.KeyDirectory;
import io.tollgate.gateway.admission.RateLimiter;
import io.tollgate.gateway.events.BalanceFeed;
import io.tollgate.gateway.events.EventLog;
import io.tollgate.gateway.events.FileJournal;
import io.tollgate.gateway.events.RequestOutbox;
import io.tollgate.gateway.routing.Routes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The gateway role: on unless {@code tollgate.gateway.enabled} is false. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(
    name = "tollgate.gateway.enabled",
    havingValue = "true",
    matchIfMissing = true)
public class GatewayConfiguration {

  /** Kafka's {@code compression.type} values, as its producer names them. */
  private static final List<String> COMPRESSIONS =
      Arrays.stream(CompressionType.values()).map(type -> type.name).toList();

  @Bean
  KeyDirectory keyDirectory(ApiConfig config) {
    return new KeyDirectory(config);
  }

  /**
   * A finished call stays reserved against its key's requests for {@code reservation-hold}: long
   * enough for its charge to reach the ledger and come back in a balance when the pipeline keeps
   * up.
   */
  @Bean
  BalanceView balanceView(@Value("${tollgate.gateway.reservation-hold:5s}") Duration hold) {
    return new BalanceView(System::nanoTime, hold);
  }

  @Bean
  Admission admission(
      KeyDirectory keys,
      BalanceView balances,
      ApiConfig config,
      @Value("${tollgate.gateway.max-running-per-limited-key:0}") int maxRunningPerLimitedKey) {
    return new Admission(
        keys,
        balances,
        new RateLimiter(System::nanoTime),
        config.prices(),
        maxRunningPerLimitedKey);
  }

  @Bean
  Routes routes(ApiConfig config) {
    return new Routes(config);
  }

  /**
   * An idempotent producer that waits for every in-sync replica: a confirmed event is on the
   * cluster. It waits at most a few seconds for a Kafka that is away before the outbox journal
   * takes over.
   *
   * <p>It lingers 20 ms (Kafka's default is 5) and lets a batch grow to 256 KiB, so that at
   * thousands of calls a second each produce request carries a hundred events, not a dozen: the
   * sender thread's wake-ups, requests and acknowledgements per event were about a tenth of the
   * gateway's CPU. The cost is up to 15 ms more before a charge reaches the ledger.
   *
   * <p>Batches are compressed with lz4 ({@code tollgate.gateway.producer-compression}: any of
   * Kafka's {@code compression.type} values; any other stops the start with a message naming the
   * setting). Sending them uncompressed saved no measurable CPU or latency on one host
   * (bench/README.md); on a network billed by the byte, {@code zstd} makes them smaller.
   */
  @Bean(destroyMethod = "close")
  RequestOutbox requestOutbox(
      KafkaConnectionDetails kafka,
      MeterRegistry meters,
      @Value("${tollgate.kafka.requests-topic}") String topic,
      @Value("${tollgate.gateway.outbox-dir:${tollgate.data-dir:data}/outbox}") String directory,
      @Value("${tollgate.gateway.outbox-max-bytes:67108864}") long maxBytes,
      @Value("${tollgate.gateway.event-log-file:}") String eventLogFile,
      @Value("${tollgate.gateway.event-log-slots:8192}") int eventLogSlots,
      @Value("${tollgate.gateway.producer-linger-ms:20}") int lingerMs,
      @Value("${tollgate.gateway.producer-batch-bytes:262144}") int batchBytes,
      @Value("${tollgate.gateway.producer-compression:lz4}") String compression) {
    Map<String, Object> settings = new HashMap<>();
    settings.put(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
        String.join(",", kafka.getProducer().getBootstrapServers()));
    settings.put(ProducerConfig.ACKS_CONFIG, "all");
    settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    settings.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
    settings.put(ProducerConfig.BATCH_SIZE_CONFIG, batchBytes);
    settings.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, producerCompression(compression));
    settings.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 3000);
    settings.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
    settings.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15000);
    settings.put(ProducerConfig.CLIENT_ID_CONFIG, "tollgate-gateway");
    KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(settings, new StringSerializer(), new ByteArraySerializer());
    return new RequestOutbox(
        producer,
        topic,
        "/tollgate/gateway",
        new FileJournal(Path.of(directory), maxBytes),
        new EventLog(
            eventLogFile.isBlank() ? Path.of(directory, "events.ring") : Path.of(eventLogFile),
            eventLogSlots),
        meters);
  }

  /** {@code value} if Kafka's producer knows it as a {@code compression.type}. */
  static String producerCompression(String value) {
    if (!COMPRESSIONS.contains(value)) {
      throw new IllegalArgumentException(
          "tollgate.gateway.producer-compression is '"
              + value
              + "'; it must be one of "
              + String.join(", ", COMPRESSIONS.subList(0, COMPRESSIONS.size() - 1))
              + " and "
              + COMPRESSIONS.get(COMPRESSIONS.size() - 1));
    }
    return value;
  }

  @Bean(destroyMethod = "close")
  BalanceFeed balanceFeed(
      KafkaConnectionDetails kafka,
      BalanceView view,
      @Value("${tollgate.kafka.balances-topic}") String topic) {
    Map<String, Object> settings = new HashMap<>();
    settings.put(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
        String.join(",", kafka.getConsumer().getBootstrapServers()));
    settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    settings.put(ConsumerConfig.CLIENT_ID_CONFIG, "tollgate-gateway-balances-" + UUID.randomUUID());
    return new BalanceFeed(
        () -> new KafkaConsumer<>(settings, new StringDeserializer(), new ByteArrayDeserializer()),
        topic,
        view);
  }
}
