package io.tollgate.ledger;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.ApiConfigParser;
import io.tollgate.testing.TestPostgres;
import java.nio.file.Path;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;

/** The ledger on its own, as its integration tests run it. */
@SpringBootApplication
public class LedgerTestApplication {

  @Bean
  ApiConfig apiConfig(
      @Value("${tollgate.config:src/test/resources/behaviour-api.yaml}") String path) {
    return ApiConfigParser.parse(Path.of(path));
  }

  /** Points the datasource at a fresh database on the test server. */
  public static TestPostgres.Database useFreshDatabase(DynamicPropertyRegistry registry) {
    TestPostgres.Database database = TestPostgres.newDatabase();
    use(database, registry);
    return database;
  }

  public static void use(TestPostgres.Database database, DynamicPropertyRegistry registry) {
    registry.add("spring.datasource.url", database::jdbcUrl);
    registry.add("spring.datasource.username", database::username);
    registry.add("spring.datasource.password", database::password);
  }
}
