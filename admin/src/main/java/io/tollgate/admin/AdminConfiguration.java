package io.tollgate.admin;

import io.tollgate.config.ApiConfig;
import io.tollgate.ledger.infrastructure.CommandBatcher;
import io.tollgate.projections.status.ViewStatus;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.core.StreamWriteFeature;

/**
 * The admin API. It reads the views, so it runs where the projections run; {@code
 * tollgate.admin.enabled=false} switches it off on its own.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "tollgate.admin.enabled", havingValue = "true", matchIfMissing = true)
public class AdminConfiguration {

  @Bean
  ApiKeys apiKeys(ApiConfig config) {
    return new ApiKeys(config);
  }

  @Bean
  @ConditionalOnProperty(
      name = "tollgate.projections.enabled",
      havingValue = "true",
      matchIfMissing = true)
  LedgerCommands ledgerCommands(
      CommandBatcher batcher,
      ViewStatus views,
      @Value("${tollgate.admin.max-wait-for-views:PT10S}") Duration maxWait) {
    return new LedgerCommands(batcher, views, maxWait);
  }

  /** Money is written as plain decimal JSON numbers: 0.00072, never 7.2E-4. */
  @Bean
  JsonMapperBuilderCustomizer plainDecimals() {
    return builder -> builder.enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN);
  }
}
