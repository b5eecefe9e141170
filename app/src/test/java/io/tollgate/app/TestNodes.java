package io.tollgate.app;

import io.tollgate.testing.TestPostgres;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Starts a whole Tollgate node for a test: a database of its own, free ports, the given config. */
final class TestNodes {

  private TestNodes() {}

  /**
   * @param more further arguments ({@code --name=value}); arguments, not default properties, so
   *     that application.yml's values lose to them
   */
  static ConfigurableApplicationContext start(Path config, Path dataDir, String... more) {
    TestPostgres.Database database = TestPostgres.newDatabase();
    List<String> arguments =
        new ArrayList<>(
            List.of(
                "--server.port=0",
                "--spring.datasource.url=" + database.jdbcUrl(),
                "--spring.datasource.username=" + database.username(),
                "--spring.datasource.password=" + database.password(),
                "--tollgate.config=" + config,
                "--tollgate.data-dir=" + dataDir));
    arguments.addAll(List.of(more));
    return new SpringApplicationBuilder(TollgateApplication.class)
        .run(arguments.toArray(String[]::new));
  }
}
