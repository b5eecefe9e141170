package io.tollgate.app;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The embedded default: with no database configured ({@code TOLLGATE_DB_URL} and {@code
 * spring.datasource.url} unset), a real PostgreSQL server is started from the binaries on Maven
 * Central, with its data under {@code ./data/postgres}, so a restart keeps the ledger. A node that
 * runs neither the ledger nor the projections starts none.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression(
    "'${spring.datasource.url:}'.isBlank() and '${tollgate.storage.enabled:true}' == 'true'")
class EmbeddedPostgresConfiguration {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresConfiguration.class);

  @Bean(destroyMethod = "close")
  EmbeddedPostgres embeddedPostgres(
      @Value("${tollgate.data-dir}") String dataDir,
      @Value("${tollgate.embedded-db-port:0}") int port)
      throws IOException {
    Path directory = Path.of(dataDir, "postgres").toAbsolutePath().normalize();
    Files.createDirectories(directory);
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder().setDataDirectory(directory).setCleanDataDirectory(false);
    if (port > 0) {
      builder.setPort(port);
    }
    EmbeddedPostgres postgres = builder.start();
    log.info("embedded PostgreSQL on port {} with its data in {}", postgres.getPort(), directory);
    return postgres;
  }

  @Bean(destroyMethod = "close")
  DataSource dataSource(EmbeddedPostgres postgres) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(postgres.getJdbcUrl("postgres", "postgres"));
    config.setUsername("postgres");
    config.setMaximumPoolSize(10);
    config.setPoolName("tollgate-embedded");
    return new HikariDataSource(config);
  }
}
