package io.tollgate.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.gateway.edge.EdgeServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.bind.annotation.RestController;

/** The same jar split by {@code tollgate.roles}. */
class RolesTest {

  @TempDir Path dir;

  @Test
  void aGatewayOnlyNodeStartsWithoutDatabaseOrEventStoreAndServesCalls() throws Exception {
    Path config = dir.resolve("api.yaml");
    Files.writeString(config, E2eConfig.yaml("http://127.0.0.1:9/v1/chat/completions"));
    try (ConfigurableApplicationContext gateway =
        new SpringApplicationBuilder(TollgateApplication.class)
            .run(
                "--server.port=0",
                "--tollgate.roles=gateway",
                "--tollgate.config=" + config,
                "--tollgate.data-dir=" + dir.resolve("data"))) {
      assertThat(gateway.getBeanNamesForType(DataSource.class)).isEmpty();
      assertThat(gateway.containsBean("eventStore")).isFalse();
      assertThat(gateway.containsBean("commandBatcher")).isFalse();
      assertThat(gateway.getBeanNamesForAnnotation(RestController.class))
          .as("the admin API lives with the views, not on a gateway node")
          .noneMatch(
              name -> gateway.getBean(name).getClass().getName().startsWith("io.tollgate.admin"))
          .contains("gatewayController");
      int port = gateway.getBean(EdgeServer.class).port();
      HttpResponse<String> models =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/models"))
                      .header("Authorization", "Bearer sk-e2e-count")
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(models.statusCode()).isEqualTo(200);
      assertThat(models.body())
          .contains("\"gpt-4o\"", "\"claude-3-5-sonnet\"")
          .doesNotContain("gpt-4o-mini");
    }
    assertThat(Files.exists(dir.resolve("data/postgres"))).isFalse();
  }

  @Test
  void anUnknownRoleStopsTheStartWithItsName() {
    assertThatThrownBy(
            () ->
                new SpringApplicationBuilder(TollgateApplication.class)
                    .run("--server.port=0", "--tollgate.roles=gateway,billing"))
        .hasStackTraceContaining("billing");
  }
}
