package io.tollgate.app.roles;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Turns {@code tollgate.roles} (gateway, ledger, projections; all by default) into the flags each
 * part is switched by: {@code tollgate.<role>.enabled}, and {@code tollgate.admin.enabled} with the
 * projections. A node with neither the ledger nor the projections has no use for a database or
 * Axon, so their auto-configuration is left out too: a gateway node starts with nothing but
 * api.yaml and Kafka.
 *
 * <p>On a gateway node {@code server.port} and {@code server.address} become the gateway's ({@code
 * tollgate.gateway.port} and {@code .address}), and the web application listens behind it on the
 * loopback interface.
 */
public class RolesEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

  public static final List<String> ROLES = List.of("gateway", "ledger", "projections");

  /** The database and every Axon auto-configuration: a node without them holds no ledger state. */
  private static final List<String> STORAGE_AUTO_CONFIGURATIONS =
      List.of(
          "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
          "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration",
          "io.tollgate.ledger.infrastructure.LedgerStorageAutoConfiguration",
          "org.axonframework.springboot.autoconfig.AvroSerializerAutoConfiguration",
          "org.axonframework.springboot.autoconfig.AxonAutoConfiguration",
          "org.axonframework.springboot.autoconfig.AxonTimeoutAutoConfiguration",
          "org.axonframework.springboot.autoconfig.AxonDbSchedulerAutoConfiguration",
          "org.axonframework.springboot.autoconfig.AxonJobRunrAutoConfiguration",
          "org.axonframework.springboot.autoconfig.AxonServerActuatorAutoConfiguration",
          "org.axonframework.springboot.autoconfig.AxonServerAutoConfiguration",
          "org.axonframework.springboot.autoconfig.AxonServerBusAutoConfiguration",
          "org.axonframework.springboot.autoconfig.AxonTracingAutoConfiguration",
          "org.axonframework.springboot.autoconfig.EventProcessingAutoConfiguration",
          "org.axonframework.springboot.autoconfig.InfraConfiguration",
          "org.axonframework.springboot.autoconfig.InterceptorAutoConfiguration",
          "org.axonframework.springboot.autoconfig.JdbcAutoConfiguration",
          "org.axonframework.springboot.autoconfig.JpaAutoConfiguration",
          "org.axonframework.springboot.autoconfig.JpaEventStoreAutoConfiguration",
          "org.axonframework.springboot.autoconfig.MetricsAutoConfiguration",
          "org.axonframework.springboot.autoconfig.MicrometerMetricsAutoConfiguration",
          "org.axonframework.springboot.autoconfig.NoOpTransactionAutoConfiguration",
          "org.axonframework.springboot.autoconfig.ObjectMapperAutoConfiguration",
          "org.axonframework.springboot.autoconfig.CBORMapperAutoConfiguration",
          "org.axonframework.springboot.autoconfig.OpenTelemetryAutoConfiguration",
          "org.axonframework.springboot.autoconfig.SecurityAutoConfiguration",
          "org.axonframework.springboot.autoconfig.TransactionAutoConfiguration",
          "org.axonframework.springboot.autoconfig.UpdateCheckerAutoConfiguration",
          "org.axonframework.springboot.autoconfig.XStreamAutoConfiguration",
          "org.axonframework.springboot.autoconfig.legacyjpa.JpaJavaxAutoConfiguration",
          "org.axonframework.springboot.autoconfig.legacyjpa.JpaJavaxEventStoreAutoConfiguration");

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    String declared = environment.getProperty("tollgate.roles", String.join(",", ROLES));
    Set<String> roles =
        Arrays.stream(declared.split(","))
            .map(role -> role.trim().toLowerCase(Locale.ROOT))
            .filter(role -> !role.isEmpty())
            .collect(Collectors.toSet());
    for (String role : roles) {
      if (!ROLES.contains(role)) {
        throw new IllegalArgumentException(
            "tollgate.roles names an unknown role '"
                + role
                + "'; the roles are "
                + String.join(", ", ROLES));
      }
    }
    Map<String, Object> flags = new HashMap<>();
    for (String role : ROLES) {
      flags.put("tollgate." + role + ".enabled", Boolean.toString(roles.contains(role)));
    }
    // The admin API reads the views, so it runs where they are kept; /v1/models is the gateway's
    // when this node is one, and the admin module's otherwise.
    flags.put("tollgate.admin.enabled", Boolean.toString(roles.contains("projections")));
    flags.put("tollgate.admin.models-endpoint", Boolean.toString(!roles.contains("gateway")));
    boolean storage = roles.contains("ledger") || roles.contains("projections");
    flags.put("tollgate.storage.enabled", Boolean.toString(storage));
    if (!storage) {
      String excluded = environment.getProperty("spring.autoconfigure.exclude", "");
      flags.put(
          "spring.autoconfigure.exclude",
          (excluded.isBlank() ? "" : excluded + ",")
              + String.join(",", STORAGE_AUTO_CONFIGURATIONS));
    }
    if (roles.contains("gateway")) {
      // Callers reach the gateway's event loops on the server's port; the web application (Spring
      // MVC on Tomcat) moves behind them, to a free port on the loopback interface.
      flags.put("tollgate.gateway.port", environment.getProperty("server.port", "8000"));
      flags.put("tollgate.gateway.address", environment.getProperty("server.address", ""));
      flags.put("server.port", "0");
      flags.put("server.address", "127.0.0.1");
    }
    environment.getPropertySources().addFirst(new MapPropertySource("tollgateRoles", flags));
  }

  /** After the config files are read, so that roles set in them count. */
  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }
}
