package io.tollgate.ledger.infrastructure;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.contracts.KeyIds;
import io.tollgate.testing.TestPostgres;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/** Request-id claims in real PostgreSQL, and the ids a ledger recorded before they were hashed. */
class JdbcRequestIdRegistryTest {

  private static final String KEY = KeyIds.of("sk-claims-user-key");
  private static final String OTHER_KEY = KeyIds.of("sk-claims-other-key");

  private final TestPostgres.Database database = TestPostgres.newDatabase();
  private final DataSource dataSource =
      new DriverManagerDataSource(database.jdbcUrl(), database.username(), database.password());
  private final JdbcTemplate jdbc = new JdbcTemplate(dataSource);

  private void migrate(String target) {
    Flyway.configure()
        .dataSource(dataSource)
        .locations("classpath:db/migration")
        .target(target)
        .load()
        .migrate();
  }

  @Test
  void idsRecordedBeforeClaimsWereHashedStayClaimed() {
    migrate("2");
    for (String requestId : new String[] {"req-1", "请求-ü-2", ""}) {
      jdbc.update(
          "INSERT INTO ledger_request_id (key_id, request_id) VALUES (?, ?)", KEY, requestId);
    }
    migrate("latest");
    JdbcRequestIdRegistry registry = new JdbcRequestIdRegistry(jdbc);

    assertThat(registry.claim(KEY, "req-1")).isFalse();
    assertThat(registry.claim(KEY, "请求-ü-2")).isFalse();
    assertThat(registry.claim(KEY, "")).isFalse();
    assertThat(registry.claim(OTHER_KEY, "req-1")).as("another key's id of the same text").isTrue();
    assertThat(registry.claim(KEY, "req-3")).isTrue();
    assertThat(registry.claim(KEY, "req-3")).isFalse();
    assertThat(jdbc.queryForObject("SELECT count(*) FROM ledger_request_claim", Long.class))
        .isEqualTo(5);
  }

  @Test
  void aClaimDependsOnBothIdsAndOnEveryByte() {
    assertThat(JdbcRequestIdRegistry.claimOf(KEY, "req-1"))
        .isEqualTo(JdbcRequestIdRegistry.claimOf(KEY, "req-1"))
        .isNotEqualTo(JdbcRequestIdRegistry.claimOf(OTHER_KEY, "req-1"))
        .isNotEqualTo(JdbcRequestIdRegistry.claimOf(KEY, "req-2"))
        .isNotEqualTo(JdbcRequestIdRegistry.claimOf(KEY, "req-1 "));
  }
}
