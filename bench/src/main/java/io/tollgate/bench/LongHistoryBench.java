package io.tollgate.bench;

import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.infrastructure.CommandBatcher;
import io.tollgate.testing.TestPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.axonframework.common.caching.Cache;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Shows that the cost of charging one key does not grow with its history. One key is charged up to
 * {@code maxHistory} times; at each checkpoint the bench times single charges (one commit each)
 * with the aggregate cached, and with the cache emptied first, which is what a restarted or evicted
 * ledger pays: loading the latest snapshot and the events after it. A second run with snapshots
 * switched off shows what the snapshot saves.
 *
 * <pre>
 * java -cp "$(cat bench/target/classpath.txt):bench/target/classes" io.tollgate.bench.LongHistoryBench [maxHistory=100000]
 * </pre>
 */
public class LongHistoryBench {

  private static final String RAW_KEY = "sk-long-history";

  public static void main(String[] args) throws Exception {
    int maxHistory = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    Path config = Files.createTempFile("tollgate-history-", ".yaml");
    Files.writeString(
        config,
        "api_keys:\n  - api: "
            + RAW_KEY
            + "\n    preferences: {billing_mode: token, credits: -1}\n");
    System.out.println(
        "| snapshots | history (events) | charge, cached (ms) | charge, cache emptied (ms) |");
    System.out.println("|---|---:|---:|---:|");
    run(config, 250, maxHistory);
    run(config, Integer.MAX_VALUE, Math.min(maxHistory, 20_000));
  }

  private static void run(Path config, int snapshotEvery, int maxHistory) throws IOException {
    TestPostgres.Database database = TestPostgres.newDatabase();
    try (ConfigurableApplicationContext ledger =
        new SpringApplicationBuilder(LedgerChargeBench.class)
            .properties(
                "tollgate.config=" + config,
                "spring.main.web-application-type=none",
                "tollgate.ledger.snapshot-every=" + snapshotEvery,
                "spring.datasource.url=" + database.jdbcUrl(),
                "spring.datasource.username=" + database.username(),
                "spring.datasource.password=" + database.password())
            .run()) {
      CommandBatcher batcher = ledger.getBean(CommandBatcher.class);
      Cache cache = ledger.getBean("keyAccountCache", Cache.class);
      String keyId = KeyIds.of(RAW_KEY);
      long next = 0;
      for (int checkpoint : new int[] {1_000, 10_000, 20_000, 50_000, 100_000, 200_000}) {
        if (checkpoint > maxHistory) {
          break;
        }
        List<ChargeRequestCommand> batch = new ArrayList<>();
        while (next < checkpoint) {
          batch.add(charge(keyId, next++));
          if (batch.size() == 1000 || next == checkpoint) {
            batcher.dispatchAll(batch);
            batch = new ArrayList<>();
          }
        }
        for (int warm = 0; warm < 50; warm++) {
          batcher.dispatchAll(List.of(charge(keyId, next++)));
        }
        long cachedNanos = 0;
        int cachedRuns = 200;
        for (int i = 0; i < cachedRuns; i++) {
          long start = System.nanoTime();
          batcher.dispatchAll(List.of(charge(keyId, next++)));
          cachedNanos += System.nanoTime() - start;
        }
        long coldNanos = 0;
        int coldRuns = 20;
        for (int i = 0; i < coldRuns; i++) {
          cache.removeAll();
          long start = System.nanoTime();
          batcher.dispatchAll(List.of(charge(keyId, next++)));
          coldNanos += System.nanoTime() - start;
        }
        System.out.printf(
            "| %s | %,d | %.2f | %.2f |%n",
            snapshotEvery == Integer.MAX_VALUE ? "off" : "every " + snapshotEvery,
            checkpoint,
            cachedNanos / 1e6 / cachedRuns,
            coldNanos / 1e6 / coldRuns);
      }
    }
  }

  private static ChargeRequestCommand charge(String keyId, long n) {
    Instant now = Instant.now();
    return new ChargeRequestCommand(
        keyId,
        new RequestCompleted(
            "h-" + n,
            keyId,
            "gpt-4o",
            "/v1/chat/completions",
            "openai",
            true,
            200,
            1200,
            300,
            false,
            now,
            now),
        now);
  }
}
