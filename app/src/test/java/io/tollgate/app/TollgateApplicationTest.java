package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.config.ConfigException;
import io.tollgate.gateway.edge.EdgeServer;
import io.tollgate.testing.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/** The runnable application, started as the README starts it. */
class TollgateApplicationTest {

  @TempDir Path dataDir;

  /** Properties go in as command-line arguments, which outrank application.yml as they would. */
  private static ConfigurableApplicationContext start(String... properties) {
    List<String> arguments = new ArrayList<>(List.of("--server.port=0"));
    if (Arrays.stream(properties).noneMatch(property -> property.startsWith("tollgate.config="))) {
      arguments.add("--tollgate.config=../api.yaml");
    }
    for (String property : properties) {
      arguments.add("--" + property);
    }
    return new SpringApplicationBuilder(TollgateApplication.class)
        .run(arguments.toArray(String[]::new));
  }

  private static long registeredKeys(ConfigurableApplicationContext app) {
    return app.getBean(JdbcTemplate.class)
        .queryForObject(
            "SELECT count(*) FROM domain_event_entry WHERE payload_type LIKE '%KeyRegistered'",
            Long.class);
  }

  @Test
  void embeddedDefaultStartsItsOwnPostgresAndKeepsTheLedgerAcrossARestart() throws Exception {
    try (ConfigurableApplicationContext app = start("tollgate.data-dir=" + dataDir)) {
      assertThat(registeredKeys(app)).isEqualTo(5);
      String port = app.getEnvironment().getProperty(EdgeServer.PORT_PROPERTY);
      HttpResponse<String> health =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + port + "/actuator/health"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body()).contains("\"UP\"");
    }
    assertThat(dataDir.resolve("postgres/PG_VERSION")).exists();
    try (ConfigurableApplicationContext app = start("tollgate.data-dir=" + dataDir)) {
      assertThat(registeredKeys(app)).isEqualTo(5);
    }
  }

  @Test
  void configuredServerIsUsedInsteadOfTheEmbeddedOne() {
    TestPostgres.Database database = TestPostgres.newDatabase();
    try (ConfigurableApplicationContext app =
        start(
            "tollgate.data-dir=" + dataDir,
            "spring.datasource.url=" + database.jdbcUrl(),
            "spring.datasource.username=" + database.username(),
            "spring.datasource.password=" + database.password())) {
      assertThat(registeredKeys(app)).isEqualTo(5);
      assertThat(app.containsBean("embeddedPostgres")).isFalse();
    }
    assertThat(dataDir.resolve("postgres")).doesNotExist();
  }

  @Test
  void unusableConfigStopsTheStartNamingFileEntryAndProblem() throws Exception {
    Path broken = dataDir.resolve("api.yaml");
    Files.writeString(
        broken,
        """
        api_keys:
          - api: sk-count-user-key
            preferences:
              billing_mode: counts
        """);
    TestPostgres.Database database = TestPostgres.newDatabase();
    assertThatThrownBy(
            () ->
                start(
                    "tollgate.config=" + broken,
                    "spring.datasource.url=" + database.jdbcUrl(),
                    "spring.datasource.username=" + database.username(),
                    "spring.datasource.password=" + database.password()))
        .rootCause()
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            broken
                + ": api_keys[0] (sk-coun...-key).preferences.billing_mode: 'counts' is not a"
                + " billing mode; expected token, count or hybrid (line 4)");
  }
}
