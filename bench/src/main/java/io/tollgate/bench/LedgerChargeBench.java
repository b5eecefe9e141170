package io.tollgate.bench;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.ApiConfigParser;
import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.infrastructure.CommandBatcher;
import io.tollgate.testing.TestPostgres;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Charges N requests spread over K keys straight into the ledger (no Kafka) on a real PostgreSQL
 * and reports charges per second. Not a test: run by hand, figures go to bench/README.md.
 *
 * <p>Each worker owns a disjoint set of keys, as a Kafka partition would, and sends its charges in
 * batches through {@link CommandBatcher}, so a batch shares one commit.
 *
 * <pre>
 * ./mvnw -q -DskipTests install && java -cp "$(cat bench/target/classpath.txt):bench/target/classes" \
 *   io.tollgate.bench.LedgerChargeBench [requests=1000000] [keys=10000] [workers=2] [batch=1000]
 * </pre>
 */
@SpringBootApplication(scanBasePackages = "io.tollgate.ledger")
public class LedgerChargeBench {

  @Bean
  ApiConfig apiConfig(@Value("${tollgate.config}") String path) {
    return ApiConfigParser.parse(Path.of(path));
  }

  public static void main(String[] args) throws Exception {
    long requests = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
    int keys = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    int workers = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    int batch = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
    if (keys % workers != 0) {
      throw new IllegalArgumentException(
          "keys must be a multiple of workers, so each key has one worker");
    }

    Path config = writeConfig(keys);
    TestPostgres.Database database = TestPostgres.newDatabase();
    System.out.printf("database: %s (%s)%n", database.jdbcUrl(), TestPostgres.description());
    long startUp = System.nanoTime();
    ConfigurableApplicationContext ledger =
        new SpringApplicationBuilder(LedgerChargeBench.class)
            .properties(
                "tollgate.config=" + config,
                "spring.main.web-application-type=none",
                "spring.datasource.url=" + database.jdbcUrl(),
                "spring.datasource.username=" + database.username(),
                "spring.datasource.password=" + database.password(),
                "spring.datasource.hikari.maximum-pool-size=" + (workers + 4))
            .run();
    System.out.printf(
        "ledger up with %d keys registered in %.1f s%n", keys, (System.nanoTime() - startUp) / 1e9);

    CommandBatcher batcher = ledger.getBean(CommandBatcher.class);
    String[] keyIds = new String[keys];
    for (int k = 0; k < keys; k++) {
      keyIds[k] = KeyIds.of(rawKey(k));
    }
    AtomicLong charged = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    Instant now = Instant.now();
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    long started = System.nanoTime();
    List<Future<?>> running = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      int worker = w;
      running.add(
          pool.submit(
              () -> {
                List<ChargeRequestCommand> pending = new ArrayList<>(batch);
                for (long i = worker; i < requests; i += workers) {
                  // keys is a multiple of workers, so key % workers == worker: a key has one worker
                  int key = (int) (i % keys);
                  RequestCompleted request =
                      new RequestCompleted(
                          "bench-" + i,
                          keyIds[key],
                          i % 3 == 0 ? "gpt-4o" : "claude-3-5-sonnet",
                          "/v1/chat/completions",
                          "openai",
                          true,
                          200,
                          1000 + i % 500,
                          200 + i % 100,
                          false,
                          now,
                          now);
                  pending.add(new ChargeRequestCommand(keyIds[key], request, now));
                  if (pending.size() == batch) {
                    flush(batcher, pending, charged, failed);
                  }
                }
                flush(batcher, pending, charged, failed);
              }));
    }
    Thread progress =
        new Thread(
            () -> {
              try {
                while (true) {
                  TimeUnit.SECONDS.sleep(10);
                  double seconds = (System.nanoTime() - started) / 1e9;
                  System.out.printf(
                      "  %,d charged in %.0f s (%,.0f/s)%n",
                      charged.get(), seconds, charged.get() / seconds);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    progress.setDaemon(true);
    progress.start();
    for (Future<?> future : running) {
      future.get();
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    progress.interrupt();
    pool.shutdown();

    JdbcTemplate jdbc = ledger.getBean(JdbcTemplate.class);
    long events =
        jdbc.queryForObject(
            "SELECT count(*) FROM domain_event_entry WHERE payload_type LIKE '%RequestCharged'",
            Long.class);
    long ids = jdbc.queryForObject("SELECT count(*) FROM ledger_request_claim", Long.class);
    System.out.printf(
        "RESULT requests=%d keys=%d workers=%d batch=%d seconds=%.1f charges_per_second=%.0f failed=%d events=%d request_ids=%d%n",
        requests,
        keys,
        workers,
        batch,
        seconds,
        charged.get() / seconds,
        failed.get(),
        events,
        ids);
    ledger.close();
    if (events != requests || failed.get() != 0) {
      System.out.println("MISMATCH: every request should have exactly one charge event");
      System.exit(1);
    }
  }

  private static void flush(
      CommandBatcher batcher,
      List<ChargeRequestCommand> pending,
      AtomicLong charged,
      AtomicLong failed) {
    if (pending.isEmpty()) {
      return;
    }
    for (CommandBatcher.Outcome outcome : batcher.dispatchAll(List.copyOf(pending))) {
      (outcome.succeeded() ? charged : failed).incrementAndGet();
    }
    pending.clear();
  }

  static String rawKey(int k) {
    return "sk-bench-" + k;
  }

  private static Path writeConfig(int keys) throws IOException {
    StringBuilder yaml = new StringBuilder("api_keys:\n");
    for (int k = 0; k < keys; k++) {
      String mode =
          switch (k % 3) {
            case 0 -> "token";
            case 1 -> "count";
            default -> "hybrid";
          };
      yaml.append("  - api: ")
          .append(rawKey(k))
          .append('\n')
          .append("    preferences: {billing_mode: ")
          .append(mode)
          .append(", credits: ")
          .append(BigDecimal.valueOf(1000))
          .append(", count_credits: 100000}\n");
    }
    yaml.append(
        """
        preferences:
          count_billing: {enabled: true, default_count_price: 0.001}
          model_price:
            claude-3-5-sonnet: 0.12,0.48
            gpt-4o: {token_price: "1,2", count_price: 0.01}
            default: 1,2
        """);
    Path file = Files.createTempFile("tollgate-bench-", ".yaml");
    Files.writeString(file, yaml);
    return file;
  }
}
