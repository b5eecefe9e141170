package io.tollgate.admin;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.ApiConfigParser;
import io.tollgate.testing.TestPostgres;
import java.nio.file.Path;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/** Ledger, views and admin API on a random port, with the shipped sample api.yaml. */
@SpringBootApplication(scanBasePackages = "io.tollgate")
public class AdminTestApplication {

  @Bean
  ApiConfig apiConfig(@Value("${tollgate.config:../api.yaml}") String path) {
    return ApiConfigParser.parse(Path.of(path));
  }

  public static ConfigurableApplicationContext start(TestPostgres.Database database) {
    return new SpringApplicationBuilder(AdminTestApplication.class)
        .properties(
            "server.port=0",
            // As an operator would set it to see the views' lag in /actuator/health.
            "management.endpoint.health.show-details=always",
            "spring.datasource.url=" + database.jdbcUrl(),
            "spring.datasource.username=" + database.username(),
            "spring.datasource.password=" + database.password())
        .run();
  }
}
