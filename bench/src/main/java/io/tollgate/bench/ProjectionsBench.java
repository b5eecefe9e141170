package io.tollgate.bench;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.ApiConfigParser;
import io.tollgate.config.BillingMode;
import io.tollgate.config.TokenPrice;
import io.tollgate.contracts.KeyIds;
import io.tollgate.ledger.account.AccountEvent.RequestCharged;
import io.tollgate.ledger.pricing.CostType;
import io.tollgate.projections.status.ViewRebuild;
import io.tollgate.projections.status.ViewStatus;
import io.tollgate.testing.TestPostgres;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import javax.sql.DataSource;
import org.axonframework.messaging.MetaData;
import org.axonframework.serialization.Serializer;
import org.postgresql.PGConnection;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Rebuild rate of every view and response times of the admin API over a large ledger: {@code keys}
 * keys (default 10,000) with {@code charges} charge events (default 1,000,000) behind them.
 *
 * <p>The charges are written straight into the event store with the ledger's own serializer, so
 * they are byte for byte what the ledger writes, without spending an hour on commands. The views
 * first catch up on them live, then are rebuilt from scratch; then the endpoints are timed over
 * HTTP.
 *
 * <p>Run: {@code TOLLGATE_TEST_DB_URL=jdbc:postgresql://127.0.0.1:5432/postgres ./mvnw -q -pl bench
 * -am package -DskipTests && java -cp "bench/target/classes:$(cat bench/target/classpath.txt)"
 * io.tollgate.bench.ProjectionsBench [keys] [charges] [rebuild-only]}: see bench/README.md.
 */
public final class ProjectionsBench {

  private static final String ADMIN = "sk-admin-key";

  @SpringBootApplication(
      scanBasePackages = {"io.tollgate.ledger", "io.tollgate.projections", "io.tollgate.admin"})
  static class BenchApplication {
    @Bean
    ApiConfig apiConfig(@Value("${tollgate.config}") String path) {
      return ApiConfigParser.parse(Path.of(path));
    }
  }

  public static void main(String[] args) throws Exception {
    int keys = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int charges = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
    // "rebuild-only": the views processor is stopped while the charges are written, so only the
    // rebuild reads them (saves the live catch-up's minutes when only the rebuild rate is wanted).
    boolean rebuildOnly = args.length > 2 && args[2].equals("rebuild-only");
    TestPostgres.Database database = TestPostgres.newDatabase();
    Path config = writeConfig(keys);
    System.out.printf("database %s, %d keys, %d charges%n", database.jdbcUrl(), keys, charges);

    ConfigurableApplicationContext app =
        new SpringApplicationBuilder(BenchApplication.class)
            .properties(
                "server.port=0",
                "spring.datasource.url=" + database.jdbcUrl(),
                "spring.datasource.username=" + database.username(),
                "spring.datasource.password=" + database.password(),
                "spring.autoconfigure.exclude=org.axonframework.springboot.autoconfig.UpdateCheckerAutoConfiguration",
                "spring.main.banner-mode=off",
                "axon.serializer.general=jackson",
                "axon.serializer.events=jackson",
                "axon.serializer.messages=jackson",
                "axon.axonserver.enabled=false",
                "logging.level.org.axonframework=warn",
                "tollgate.config=" + config)
            .run();
    try {
      ViewStatus status = app.getBean(ViewStatus.class);
      status.awaitCaughtUp(Duration.ofMinutes(10));

      if (rebuildOnly) {
        status.processor().shutDown();
      }
      long written = System.nanoTime();
      writeCharges(app, keys, charges);
      double writeSeconds = (System.nanoTime() - written) / 1e9;
      System.out.printf("wrote %d charge events in %.1f s%n", charges, writeSeconds);
      // Writing a million events leaves over a gigabyte of WAL behind; without a checkpoint here
      // the server flushes it in the middle of whatever is timed next.
      app.getBean(JdbcTemplate.class).execute("CHECKPOINT");

      if (!rebuildOnly) {
        long live = System.nanoTime();
        status.awaitCaughtUp(Duration.ofHours(2));
        double liveSeconds = (System.nanoTime() - live) / 1e9;
        System.out.printf(
            "live catch-up: %d events in %.1f s = %.0f events/s%n",
            charges, liveSeconds, charges / liveSeconds);
      }

      ViewRebuild rebuild = app.getBean(ViewRebuild.class);
      long started = System.nanoTime();
      rebuild.start();
      while (rebuild.isRunning()) {
        Thread.sleep(20); // the rebuild's end is noticed when it is asked: ask often
      }
      double rebuildSeconds = (System.nanoTime() - started) / 1e9;
      ViewRebuild.Progress done = rebuild.progress();
      System.out.printf(
          "rebuild: %d events in %.1f s = %.0f events/s (reported %s events/s)%n",
          done.eventsDone(),
          rebuildSeconds,
          done.eventsDone() / rebuildSeconds,
          done.eventsPerSecond());

      String base = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
      Random random = new Random(1);
      time(
          "GET /v1/api_keys_states (all " + keys + " keys)",
          30,
          () -> base + "/v1/api_keys_states");
      time(
          "GET /v1/token_usage?api_key_param=<one key> (30 days)",
          300,
          () -> base + "/v1/token_usage?api_key_param=sk-bench-" + random.nextInt(keys));
      time(
          "GET /v1/token_usage?api_key_param=<one key>&last_n_days=1",
          300,
          () ->
              base
                  + "/v1/token_usage?last_n_days=1&api_key_param=sk-bench-"
                  + random.nextInt(keys));
      time("GET /v1/token_usage (every key, 30 days)", 30, () -> base + "/v1/token_usage");
      time("GET /v1/stats?hours=24", 100, () -> base + "/v1/stats?hours=24");
      time(
          "GET /v1/billing/history?paid_key=<one key>&limit=100",
          300,
          () -> base + "/v1/billing/history?limit=100&paid_key=sk-bench-" + random.nextInt(keys));
    } finally {
      app.close();
    }
    System.exit(0); // Axon's handler-timeout janitor thread is not a daemon
  }

  private static Path writeConfig(int keys) throws IOException {
    StringBuilder yaml =
        new StringBuilder(
            """
        providers:
          - provider: openai
            base_url: https://example.invalid/v1/chat/completions
            api: sk-upstream
            model: [gpt-4o, gpt-4o-mini]
        api_keys:
          - api: sk-admin-key
            role: admin
        """);
    for (int i = 0; i < keys; i++) {
      yaml.append("  - api: sk-bench-")
          .append(i)
          .append("\n    preferences:\n      billing_mode: ")
          .append(i % 2 == 0 ? "token" : "count")
          .append("\n      credits: 100\n      count_credits: 100000\n");
    }
    yaml.append(
        """
        preferences:
          count_billing:
            enabled: true
            default_count_price: 0.001
          model_price:
            gpt-4o: {token_price: "1,2", count_price: 0.01}
            default: 1,2
        """);
    Path file = Files.createTempFile("tollgate-bench-", ".yaml");
    Files.writeString(file, yaml);
    return file;
  }

  /**
   * Appends {@code charges} RequestCharged events, spread evenly over the keys and over the last 30
   * days, with the ledger's serializer, continuing each key's sequence after its registration.
   */
  private static void writeCharges(ConfigurableApplicationContext app, int keys, int charges)
      throws Exception {
    Serializer serializer = app.getBean("eventSerializer", Serializer.class);
    byte[] metaData = serializer.serialize(MetaData.emptyInstance(), byte[].class).getData();
    String metaHex = "\\x" + HexFormat.of().formatHex(metaData);
    DataSource dataSource = app.getBean(DataSource.class);
    String[] keyIds = new String[keys];
    for (int i = 0; i < keys; i++) {
      keyIds[i] = KeyIds.of("sk-bench-" + i);
    }
    long[] sequence = new long[keys];
    Arrays.fill(sequence, 1);
    Instant now = Instant.now();
    TokenPrice tokenPrice = new TokenPrice(BigDecimal.ONE, BigDecimal.valueOf(2));
    Random random = new Random(7);
    int chunk = 20_000;
    try (Connection connection = dataSource.getConnection()) {
      for (int from = 0; from < charges; from += chunk) {
        StringBuilder csv = new StringBuilder(chunk * 1500);
        for (int n = from; n < Math.min(charges, from + chunk); n++) {
          int key = n % keys;
          Instant completed = now.minusSeconds(random.nextInt(30 * 86400));
          boolean count = key % 2 == 1;
          long prompt = 100 + random.nextInt(2000);
          long completion = random.nextInt(1000);
          BigDecimal usd =
              count
                  ? new BigDecimal("0.01")
                  : BigDecimal.valueOf(prompt + 2 * completion).movePointLeft(6);
          RequestCharged event =
              new RequestCharged(
                  keyIds[key],
                  now,
                  "bench-" + n,
                  n % 3 == 0 ? "gpt-4o-mini" : "gpt-4o",
                  "/v1/chat/completions",
                  "openai",
                  completed,
                  count ? BillingMode.COUNT : BillingMode.TOKEN,
                  count ? CostType.COUNT : CostType.TOKEN,
                  prompt,
                  completion,
                  false,
                  usd,
                  count ? 1 : 0,
                  tokenPrice,
                  count ? new BigDecimal("0.01") : null,
                  "pv-bench",
                  true);
          byte[] payload = serializer.serialize(event, byte[].class).getData();
          csv.append(keyIds[key])
              .append(',')
              .append(sequence[key]++)
              .append(",KeyAccount,")
              .append(UUID.randomUUID())
              .append(',')
              .append(metaHex)
              .append(",\\x")
              .append(HexFormat.of().formatHex(payload))
              .append(",,")
              .append(RequestCharged.class.getName())
              .append(',')
              .append(now)
              .append('\n');
        }
        connection
            .unwrap(PGConnection.class)
            .getCopyAPI()
            .copyIn(
                "COPY domain_event_entry (aggregate_identifier, sequence_number, type, event_identifier, meta_data, "
                    + "payload, payload_revision, payload_type, time_stamp) FROM STDIN (FORMAT csv)",
                new StringReader(csv.toString()));
      }
    }
  }

  private interface Url {
    String next();
  }

  private static void time(String name, int samples, Url url) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    for (int i = 0; i < Math.min(10, samples); i++) {
      call(client, url.next()); // warm-up
    }
    List<Long> micros = new ArrayList<>();
    long bytes = 0;
    for (int i = 0; i < samples; i++) {
      long start = System.nanoTime();
      bytes = call(client, url.next());
      micros.add((System.nanoTime() - start) / 1000);
    }
    micros.sort(null);
    System.out.printf(
        "%-60s p50 %8.2f ms  p99 %8.2f ms  (%d calls, last body %d bytes)%n",
        name,
        micros.get(samples / 2) / 1000.0,
        micros.get(Math.min(samples - 1, (int) Math.ceil(samples * 0.99) - 1)) / 1000.0,
        samples,
        bytes);
  }

  private static long call(HttpClient client, String url) throws Exception {
    HttpResponse<byte[]> response =
        client.send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + ADMIN)
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(
          url + " answered " + response.statusCode() + ": " + new String(response.body()));
    }
    return response.body().length;
  }
}
