package io.tollgate.gateway.events;

import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.CloudEventCodec.MalformedEventException;
import io.tollgate.gateway.admission.BalanceView;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the ledger's compacted balance topic into the {@link BalanceView}. Every gateway reads
 * every partition from the start, without a consumer group: each needs every key's balance, and
 * compaction keeps that read as short as the number of keys.
 */
public final class BalanceFeed implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(BalanceFeed.class);

  private final Supplier<Consumer<String, byte[]>> consumers;
  private final String topic;
  private final BalanceView view;
  private final Thread thread;
  private volatile Consumer<String, byte[]> consumer;
  private volatile boolean running = true;

  public BalanceFeed(Supplier<Consumer<String, byte[]>> consumers, String topic, BalanceView view) {
    this.consumers = consumers;
    this.topic = topic;
    this.view = view;
    this.thread = new Thread(this::run, "balance-feed");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    while (running) {
      try (Consumer<String, byte[]> opened = consumers.get()) {
        consumer = opened;
        List<TopicPartition> partitions =
            opened.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(info -> new TopicPartition(topic, info.partition()))
                .toList();
        if (partitions.isEmpty()) {
          Thread.sleep(1000);
          continue;
        }
        opened.assign(partitions);
        opened.seekToBeginning(partitions);
        while (running) {
          for (ConsumerRecord<String, byte[]> record : opened.poll(Duration.ofSeconds(1))) {
            apply(record);
          }
        }
      } catch (WakeupException stopping) {
        return;
      } catch (InterruptedException stopping) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException failure) {
        if (!running) {
          return;
        }
        log.warn("cannot follow the balance topic {} ({}); retrying", topic, failure.toString());
        try {
          Thread.sleep(1000);
        } catch (InterruptedException stopping) {
          return;
        }
      }
    }
  }

  private void apply(ConsumerRecord<String, byte[]> record) {
    if (record.value() == null) {
      return;
    }
    try {
      view.update(CloudEventCodec.decodeKeyBalance(record.value()));
    } catch (MalformedEventException malformed) {
      log.warn(
          "skipping a balance message at {}-{}@{}: {}",
          record.topic(),
          record.partition(),
          record.offset(),
          malformed.getMessage());
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    Consumer<String, byte[]> current = consumer;
    if (current != null) {
      current.wakeup();
    }
    thread.join(5000);
  }
}
