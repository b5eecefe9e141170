package io.tollgate.ledger.infrastructure;

import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * The settings every application that embeds the ledger needs, as defaults of the lowest precedence
 * (any application.yml or environment variable overrides them):
 *
 * <ul>
 *   <li>Jackson, never XStream, for events, messages and snapshots; no Axon Server.
 *   <li>No per-handler timeout monitor: it takes a stack trace of every command, a fifth of the
 *       ledger's CPU in a profile, and batches are bounded by the consumer anyway.
 *   <li>No update checker: it phones home at start.
 *   <li>Batched inserts rewritten into multi-row statements by the PostgreSQL driver.
 * </ul>
 */
public class LedgerDefaults implements EnvironmentPostProcessor {

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    environment
        .getPropertySources()
        .addLast(
            new MapPropertySource(
                "tollgateLedgerDefaults",
                Map.of(
                    "axon.serializer.general", "jackson",
                    "axon.serializer.events", "jackson",
                    "axon.serializer.messages", "jackson",
                    "axon.axonserver.enabled", "false",
                    "axon.timeout.enabled", "false",
                    "spring.autoconfigure.exclude",
                        "org.axonframework.springboot.autoconfig.UpdateCheckerAutoConfiguration",
                    "spring.datasource.hikari.data-source-properties.reWriteBatchedInserts",
                        "true")));
  }
}
