package io.tollgate.bench;

import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * End-to-end ingest: produces {@code RequestCompleted} events into Kafka as fast as the producer
 * goes, while a running ledger node charges them, and reports charges per second and the delay from
 * publish to charge stored.
 *
 * <p>The store is watched by the highest global index of the event table (one index read every 5 ms
 * when paced, every 50 ms flat out; each charge appends one event). Charges are matched to events
 * in publish order, so a delay is "when the store first held as many charges as this event's
 * position": exact for one partition, an approximation across several, where the ledger takes
 * partitions in turn.
 *
 * <p>Arguments: bootstrap servers, requests topic, JDBC URL of the ledger's database, events, keys,
 * and optionally a rate in events per second (0, the default: as fast as possible). Flat out, the
 * delay measures the backlog; below the ledger's capacity it measures the pipeline. With {@code
 * -Dingest.views=true} (a node that runs the projections) the run then waits until the billing
 * history holds the last charge, and says how long after the store that was.
 */
public final class IngestBench {

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    String jdbcUrl = args[2];
    int events = Integer.parseInt(args[3]);
    int keys = Integer.parseInt(args[4]);
    int rate = args.length > 5 ? Integer.parseInt(args[5]) : 0;

    String[] keyIds = new String[keys];
    for (int k = 0; k < keys; k++) {
      keyIds[k] = KeyIds.of("sk-bench-" + k);
    }
    Map<String, Object> settings = new HashMap<>();
    settings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    settings.put(ProducerConfig.ACKS_CONFIG, "all");
    settings.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    settings.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    settings.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    settings.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");

    try (Connection db = DriverManager.getConnection(jdbcUrl, "postgres", "");
        KafkaProducer<String, byte[]> producer =
            new KafkaProducer<>(settings, new StringSerializer(), new ByteArraySerializer())) {
      long baseline = highestIndex(db);
      long[] published = new long[events];
      long start = System.nanoTime();
      Thread producing =
          new Thread(
              () -> {
                long begin = System.nanoTime();
                for (int i = 0; i < events; i++) {
                  if (rate > 0) {
                    long due = begin + i * 1_000_000_000L / rate;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                      LockSupport.parkNanos(wait);
                    }
                  }
                  Instant now = Instant.now();
                  String keyId = keyIds[i % keys];
                  // Shaped like the gateway's ids ("req_" and a random UUID), so that the
                  // ledger's request-id claims land where production's do: at random places in
                  // their index, not at its end as counted ids did.
                  RequestCompleted request =
                      new RequestCompleted(
                          "req_"
                              + new UUID(
                                  ThreadLocalRandom.current().nextLong(),
                                  ThreadLocalRandom.current().nextLong()),
                          keyId,
                          "fast",
                          "/v1/chat/completions",
                          "fast",
                          true,
                          200,
                          12,
                          3,
                          false,
                          now,
                          now);
                  published[i] = System.nanoTime();
                  producer.send(
                      new ProducerRecord<>(
                          topic, keyId, CloudEventCodec.encode(request, "/bench")));
                }
                producer.flush();
              });
      producing.start();

      // Each look at the store is a query that costs PostgreSQL about half a millisecond under
      // load (its index's tail is full of rows still in flight), so a flat-out run, whose delays
      // are seconds, looks every 50 ms; a paced one, whose delays can be tens of milliseconds,
      // every 5 ms. Looking every 5 ms in flat-out runs was about a twentieth of PostgreSQL's
      // time, counted in its CPU per charge (until the twelfth session).
      long pollMillis = Long.getLong("ingest.poll-ms", rate > 0 ? 5 : 50);
      long[] storedAt = new long[events];
      int seen = 0;
      while (seen < events) {
        int stored = (int) Math.min(events, highestIndex(db) - baseline);
        long now = System.nanoTime();
        for (; seen < stored; seen++) {
          storedAt[seen] = now;
        }
        if (now - start > 600_000_000_000L) {
          throw new IllegalStateException(
              "only " + seen + " of " + events + " charged after 10 minutes");
        }
        Thread.sleep(pollMillis);
      }
      producing.join();
      long end = System.nanoTime();
      // On a node with the views, they follow the store asynchronously: wait until the billing
      // history holds the last charge too, so the run's CPU figures include the views' work.
      long viewsEnd = -1;
      if (Boolean.getBoolean("ingest.views")) {
        long head = highestIndex(db);
        while (highestInHistory(db) < head) {
          if (System.nanoTime() - end > 600_000_000_000L) {
            throw new IllegalStateException("the views did not catch up within 10 minutes");
          }
          Thread.sleep(pollMillis);
        }
        viewsEnd = System.nanoTime();
      }
      long producedIn = producing.isAlive() ? -1 : 0;
      long[] delays = new long[events];
      for (int i = 0; i < events; i++) {
        delays[i] = storedAt[i] - published[i];
      }
      Arrays.sort(delays);
      double seconds = (end - start) / 1e9;
      System.out.printf(
          "events %d over %d keys, %s%n",
          events, keys, rate > 0 ? "published at " + rate + "/s" : "published as fast as possible");
      System.out.printf("charged in %.2f s: %.0f charges/s%n", seconds, events / seconds);
      System.out.printf(
          "publish-to-stored delay: p50 %.0f ms, p99 %.0f ms, max %.0f ms%n",
          delays[events / 2] / 1e6, delays[(int) (events * 0.99)] / 1e6, delays[events - 1] / 1e6);
      if (viewsEnd > 0) {
        System.out.printf(
            "views caught up %.2f s after the last charge was stored: %.0f charges/s stored and"
                + " projected%n",
            (viewsEnd - end) / 1e9, events / ((viewsEnd - start) / 1e9));
      }
      if (producedIn != 0) {
        System.out.println("the producer had not finished");
      }
    }
  }

  private static long highestInHistory(Connection db) throws SQLException {
    try (Statement statement = db.createStatement();
        ResultSet result =
            statement.executeQuery("SELECT coalesce(max(global_index), 0) FROM billing_history")) {
      result.next();
      return result.getLong(1);
    }
  }

  private static long highestIndex(Connection db) throws SQLException {
    try (Statement statement = db.createStatement();
        ResultSet result =
            statement.executeQuery(
                "SELECT coalesce(max(global_index), 0) FROM domain_event_entry")) {
      result.next();
      return result.getLong(1);
    }
  }
}
