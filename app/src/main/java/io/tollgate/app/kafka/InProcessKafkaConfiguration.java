package io.tollgate.app.kafka;

import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The embedded default for Kafka: with {@code KAFKA_BOOTSTRAP_SERVERS} unset, a broker is started
 * in this JVM with its data beside the embedded database, and everything that talks to Kafka is
 * pointed at it through Boot's {@link KafkaConnectionDetails}.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("'${tollgate.kafka.bootstrap-servers:}'.isBlank()")
class InProcessKafkaConfiguration {

  private static final Logger log = LoggerFactory.getLogger(InProcessKafkaConfiguration.class);

  @Bean(destroyMethod = "close")
  InProcessKafkaBroker inProcessKafkaBroker(
      @Value("${tollgate.data-dir}") String dataDir,
      @Value("${tollgate.kafka.partitions:3}") int partitions,
      @Value("${tollgate.kafka.in-process-port:0}") int port) {
    Path directory = Path.of(dataDir, "kafka").toAbsolutePath().normalize();
    InProcessKafkaBroker broker = InProcessKafkaBroker.start(directory, partitions, port);
    log.info("in-process Kafka on {} with its data in {}", broker.bootstrapServers(), directory);
    return broker;
  }

  @Bean
  KafkaConnectionDetails kafkaConnectionDetails(InProcessKafkaBroker broker) {
    return () -> List.of(broker.bootstrapServers());
  }
}
