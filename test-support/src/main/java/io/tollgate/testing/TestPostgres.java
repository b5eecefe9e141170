package io.tollgate.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * A real PostgreSQL server for tests, chosen once per JVM in this order: the JDBC URL in {@code
 * TOLLGATE_TEST_DB_URL} (CI points it at the machine's server), a Testcontainers container when a
 * Docker engine answers, else an embedded PostgreSQL from Maven Central. A test never skips for
 * want of a database.
 *
 * <p>Each {@link #newDatabase()} is a fresh, empty database on that server, so test classes cannot
 * see each other's events.
 */
public final class TestPostgres {

  public static final String URL_VARIABLE = "TOLLGATE_TEST_DB_URL";

  private static Server server;

  private TestPostgres() {}

  /** Connection details of one database. */
  public record Database(String jdbcUrl, String username, String password) {}

  private record Server(String adminUrl, String username, String password, String description) {}

  public static synchronized Database newDatabase() {
    Server current = server();
    String name = "tollgate_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    try (Connection connection =
            DriverManager.getConnection(
                current.adminUrl(), current.username(), current.password());
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot create a test database on " + current.description(), e);
    }
    return new Database(
        withDatabase(current.adminUrl(), name), current.username(), current.password());
  }

  /** Where the databases live, for a test's log. */
  public static synchronized String description() {
    return server().description();
  }

  private static Server server() {
    if (server == null) {
      server = start();
    }
    return server;
  }

  private static Server start() {
    String fromEnvironment = System.getenv(URL_VARIABLE);
    if (fromEnvironment != null && !fromEnvironment.isBlank()) {
      String user = System.getenv().getOrDefault("TOLLGATE_TEST_DB_USER", "postgres");
      String password = System.getenv().getOrDefault("TOLLGATE_TEST_DB_PASSWORD", "");
      return new Server(fromEnvironment, user, password, "the server in " + URL_VARIABLE);
    }
    if (dockerAnswers()) {
      PostgreSQLContainer container = new PostgreSQLContainer("postgres:16-alpine");
      container.start();
      return new Server(
          container.getJdbcUrl(),
          container.getUsername(),
          container.getPassword(),
          "a Testcontainers container");
    }
    try {
      EmbeddedPostgres embedded = EmbeddedPostgres.builder().start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> close(embedded)));
      return new Server(
          embedded.getJdbcUrl("postgres", "postgres"), "postgres", "", "an embedded PostgreSQL");
    } catch (IOException e) {
      throw new IllegalStateException(
          "no PostgreSQL for tests: set "
              + URL_VARIABLE
              + ", run a Docker engine, or allow embedded PostgreSQL",
          e);
    }
  }

  private static boolean dockerAnswers() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  private static void close(EmbeddedPostgres embedded) {
    try {
      embedded.close();
    } catch (IOException ignored) {
      // the JVM is exiting; the server dies with it
    }
  }

  static String withDatabase(String jdbcUrl, String database) {
    int query = jdbcUrl.indexOf('?');
    String base = query < 0 ? jdbcUrl : jdbcUrl.substring(0, query);
    String parameters = query < 0 ? "" : jdbcUrl.substring(query);
    int slash = base.lastIndexOf('/');
    return base.substring(0, slash + 1) + database + parameters;
  }

  static {
    try {
      DriverManager.registerDriver(new org.postgresql.Driver());
    } catch (SQLException e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
