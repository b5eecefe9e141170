package io.tollgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GatewayConfigurationTest {

  @ParameterizedTest
  @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
  void everyCompressionTheGatewayAcceptsIsOneKafkasProducerTakes(String name) {
    String accepted = GatewayConfiguration.producerCompression(name);

    ProducerConfig producer =
        new ProducerConfig(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:9092",
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                ByteArraySerializer.class,
                ProducerConfig.COMPRESSION_TYPE_CONFIG,
                accepted));
    assertThat(producer.getString(ProducerConfig.COMPRESSION_TYPE_CONFIG)).isEqualTo(name);
  }

  @Test
  void anUnknownCompressionIsRefusedNamingTheSetting() {
    assertThatThrownBy(() -> GatewayConfiguration.producerCompression("lz5"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "tollgate.gateway.producer-compression is 'lz5'; it must be one of none, gzip, snappy,"
                + " lz4 and zstd");
  }
}
