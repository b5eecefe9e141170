package io.tollgate.app;

import io.tollgate.contracts.KeyIds;
import io.tollgate.testing.TestPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

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

  /** How many calls made with the caller's key {@code rawKey} the node's ledger has charged. */
  static long charges(ConfigurableApplicationContext node, String rawKey) {
    return node.getBean(JdbcTemplate.class)
        .queryForObject(
            "SELECT count(*) FROM domain_event_entry WHERE aggregate_identifier = ?"
                + " AND payload_type LIKE '%$RequestCharged'",
            Long.class, KeyIds.of(rawKey));
  }

  /**
   * Waits up to {@code timeout} for the asynchronous pipeline to charge {@code expected} calls of
   * the key; the assertion that follows says what was expected.
   */
  static void awaitCharges(
      ConfigurableApplicationContext node, String rawKey, long expected, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (charges(node, rawKey) < expected && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  /** A port nothing listens on now, for a node or broker the test starts. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
