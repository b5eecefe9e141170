package io.tollgate.gateway.events;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.RequestCompleted;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * Kafka away, then back: events wait on disk and are all delivered, none lost. The outbox is given
 * an address where nothing listens; later a real broker answers there.
 */
class RequestOutboxTest {

  private static final String TOPIC = "requests";

  @TempDir Path journalDir;

  private static RequestCompleted request(int n) {
    return TestRequests.completed("req-" + n, "sk-" + n);
  }

  private static KafkaProducer<String, byte[]> producer(String bootstrap) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
            ProducerConfig.MAX_BLOCK_MS_CONFIG, 500,
            ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 1000,
            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 1500,
            ProducerConfig.LINGER_MS_CONFIG, 0),
        new StringSerializer(),
        new ByteArraySerializer());
  }

  /** An outbox on this test's journal and event log, its producer sending to {@code bootstrap}. */
  private RequestOutbox outbox(String bootstrap, MeterRegistry meters) {
    return new RequestOutbox(
        producer(bootstrap),
        TOPIC,
        "/test",
        new FileJournal(journalDir, 1 << 20),
        eventLog(),
        meters);
  }

  private EventLog eventLog() {
    return new EventLog(journalDir.resolve("events.ring"), 64);
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void eventsPublishedWhileKafkaIsAwayWaitOnDiskAndAreSentWhenItIsBack() throws Exception {
    int port = freePort();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    FileJournal journal = new FileJournal(journalDir, 1 << 20);
    try (RequestOutbox outbox =
        new RequestOutbox(
            producer("localhost:" + port), TOPIC, "/test", journal, eventLog(), meters)) {
      for (int n = 0; n < 5; n++) {
        outbox.send(List.of(outbox.record(request(n))));
      }
      assertThat(outbox.waiting()).isEqualTo(5);
      assertThat(meters.get("tollgate.outbox.waiting").gauge().value()).isEqualTo(5.0);
      assertThat(outbox.hasRoom()).isTrue();

      EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 1, TOPIC);
      kafka.afterPropertiesSet();
      String[] broker = kafka.getBrokersAsString().split(",")[0].split(":");
      try (TcpForwarder kafkaIsBack =
          new TcpForwarder(port, broker[0], Integer.parseInt(broker[1]))) {
        List<String> delivered = readAll(kafka.getBrokersAsString(), TOPIC, 5);
        // At least once: a send whose confirmation was lost may arrive twice; the ledger dedups.
        assertThat(Set.copyOf(delivered))
            .containsExactlyInAnyOrder("req-0", "req-1", "req-2", "req-3", "req-4");
        assertThat(outbox.waiting()).isZero();
      } finally {
        kafka.destroy();
      }
    }
  }

  @Test
  void theJournalSurvivesARestartOfTheGateway() throws Exception {
    int port = freePort();
    try (RequestOutbox outbox = outbox("localhost:" + port, new SimpleMeterRegistry())) {
      outbox.send(List.of(outbox.record(request(1))));
      outbox.send(List.of(outbox.record(request(2))));
    }
    FileJournal reopened = new FileJournal(journalDir, 1 << 20);
    assertThat(reopened.messages()).isEqualTo(2);
    assertThat(reopened.takeAll())
        .extracting(message -> CloudEventCodec.decodeRequestCompleted(message).requestId())
        .containsExactly("req-1", "req-2");
  }

  /**
   * A gateway that dies with events recorded but not yet confirmed by Kafka (in its hand-off queue
   * or its producer's buffer): the next start finds them in the event log and sends them. Here the
   * first outbox records three events and sends one; the other two are what the process held when
   * it died.
   */
  @Test
  void eventsKafkaNeverConfirmedAreSentByTheNextStart() throws Exception {
    EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 1, TOPIC);
    kafka.afterPropertiesSet();
    try {
      String bootstrap = kafka.getBrokersAsString();
      try (RequestOutbox dying = outbox(bootstrap, new SimpleMeterRegistry())) {
        dying.record(request(1));
        dying.record(request(2));
        dying.send(List.of(dying.record(request(3))));
      }
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      try (RequestOutbox next = outbox(bootstrap, meters)) {
        List<String> delivered = readAll(bootstrap, TOPIC, 3);
        assertThat(delivered).containsExactlyInAnyOrder("req-1", "req-2", "req-3");
        awaitWaiting(next, 0);
        assertThat(next.waiting()).isZero();
        assertThat(meters.get("tollgate.outbox.unconfirmed").gauge().value()).isZero();
      }
      try (EventLog after = eventLog()) {
        assertThat(after.leftOver()).isEmpty();
      }
    } finally {
      kafka.destroy();
    }
  }

  /**
   * Kafka slow to confirm fills the event log; an event that then finds no slot is durable only
   * once it is in the journal, so it goes there at once instead of waiting in Kafka's buffer, where
   * a gateway that died would lose it. Here two events still in the hand-off queue hold the log's
   * two slots; the journal is drained by hand.
   */
  @Test
  void anEventTheEventLogHasNoRoomForIsOnDiskInTheJournalAsSoonAsItIsSent() throws Exception {
    EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 1, TOPIC);
    kafka.afterPropertiesSet();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (RequestOutbox outbox =
        new RequestOutbox(
            producer(kafka.getBrokersAsString()),
            TOPIC,
            "/test",
            new FileJournal(journalDir, 1 << 20),
            new EventLog(journalDir.resolve("events.ring"), 2),
            meters,
            Duration.ofHours(1))) {
      RequestOutbox.Recorded first = outbox.record(request(1));
      RequestOutbox.Recorded second = outbox.record(request(2));
      RequestOutbox.Recorded third = outbox.record(request(3));
      assertThat(third.slot()).isNegative();
      assertThat(meters.get("tollgate.outbox.unlogged").counter().count()).isEqualTo(1.0);

      outbox.send(List.of(first, third, second));

      // The third and, queued behind it, the second; forced to disk, as a new reader sees.
      assertThat(outbox.waiting()).isEqualTo(2);
      assertThat(new FileJournal(journalDir, 1 << 20).messages()).isEqualTo(2);
      outbox.drain();
      assertThat(Set.copyOf(readAll(kafka.getBrokersAsString(), TOPIC, 3)))
          .containsExactlyInAnyOrder("req-1", "req-2", "req-3");
      assertThat(outbox.waiting()).isZero();
    } finally {
      kafka.destroy();
    }
  }

  /**
   * Kafka refuses events it had taken: a topic whose messages may not exceed 64 bytes answers each
   * send with an error, on Kafka's I/O thread. That thread only hands the events back, each still
   * in its event-log slot (safe from a crash), and the outbox's own drain puts them in the journal
   * with one forced write. Once the topic accepts writes again, the next drain delivers them.
   */
  @Test
  void eventsKafkaRefusesKeepTheirSlotsUntilTheOutboxPutsThemInTheJournal() throws Exception {
    String topic = "refusing";
    EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 1, TOPIC);
    kafka.afterPropertiesSet();
    String bootstrap = kafka.getBrokersAsString();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    KafkaProducer<String, byte[]> producer = producer(bootstrap);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
        RequestOutbox outbox =
            new RequestOutbox(
                producer,
                topic,
                "/test",
                new FileJournal(journalDir, 1 << 20),
                eventLog(),
                meters,
                Duration.ofHours(1))) {
      admin
          .createTopics(
              List.of(
                  new NewTopic(topic, 1, (short) 1)
                      .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "64"))))
          .all()
          .get();

      outbox.send(List.of(outbox.record(request(1)), outbox.record(request(2))));
      producer.flush(); // returns once Kafka has refused both
      assertThat(outbox.waiting()).isZero();
      assertThat(meters.get("tollgate.outbox.unconfirmed").gauge().value()).isEqualTo(2.0);

      outbox.drain(); // into the journal, and sent from there: refused again, so they stay
      assertThat(outbox.waiting()).isEqualTo(2);
      assertThat(meters.get("tollgate.outbox.unconfirmed").gauge().value()).isZero();

      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      admin
          .incrementalAlterConfigs(
              Map.of(
                  resource,
                  List.of(
                      new AlterConfigOp(
                          new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "1048588"),
                          AlterConfigOp.OpType.SET))))
          .all()
          .get();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (outbox.waiting() > 0 && System.nanoTime() < deadline) {
        outbox.drain();
      }
      assertThat(outbox.waiting()).isZero();
      assertThat(Set.copyOf(readAll(bootstrap, topic, 2)))
          .containsExactlyInAnyOrder("req-1", "req-2");
    } finally {
      kafka.destroy();
    }
  }

  /**
   * A journaled message this gateway cannot read (another version's, or damaged on disk) neither
   * stops the drain nor stays behind: it goes to Kafka without a key, for the ledger to dead-letter
   * with the reason, and the good messages around it go too.
   */
  @Test
  void aJournaledMessageTheGatewayCannotReadIsSentWithoutAKeyAndTheDrainGoesOn() throws Exception {
    byte[] unreadable =
        "{\"specversion\":\"1.0\",\"type\":\"something.else\"}".getBytes(StandardCharsets.UTF_8);
    RequestCompleted first = request(1);
    byte[] firstMessage = CloudEventCodec.encode(first, "/test");
    new FileJournal(journalDir, 1 << 20)
        .append(List.of(firstMessage, unreadable, CloudEventCodec.encode(request(2), "/test")));
    EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 1, TOPIC);
    kafka.afterPropertiesSet();
    try {
      String bootstrap = kafka.getBrokersAsString();
      try (RequestOutbox outbox = outbox(bootstrap, new SimpleMeterRegistry())) {
        Map<String, String> keyByValue = new HashMap<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrap, TOPIC)) {
          long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
          while (keyByValue.size() < 3 && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
              keyByValue.put(new String(record.value(), StandardCharsets.UTF_8), record.key());
            }
          }
        }
        assertThat(keyByValue)
            .containsEntry(new String(unreadable, StandardCharsets.UTF_8), null)
            .containsEntry(new String(firstMessage, StandardCharsets.UTF_8), first.keyId())
            .hasSize(3);
        awaitWaiting(outbox, 0);
        assertThat(outbox.waiting()).isZero();
      }
    } finally {
      kafka.destroy();
    }
  }

  /**
   * A disk that refuses the journal's writes (here its name is taken by a directory; on a server, a
   * full or failing disk): the events wait in memory, no more calls are admitted, and the drain
   * keeps them in the journal once the disk takes writes again.
   */
  @Test
  void eventsTheJournalCannotTakeWaitInMemoryWhileNoCallsAreAdmitted() throws Exception {
    int port = freePort();
    Path journalFile = journalDir.resolve("outbox.journal");
    try (RequestOutbox outbox = outbox("localhost:" + port, new SimpleMeterRegistry())) {
      Files.createDirectory(journalFile);
      outbox.send(List.of(outbox.record(request(1)), outbox.record(request(2))));
      assertThat(outbox.hasRoom()).isFalse();
      assertThat(outbox.waiting()).isZero();

      Files.delete(journalFile);
      awaitWaiting(outbox, 2);
      assertThat(outbox.waiting()).isEqualTo(2);
      assertThat(outbox.hasRoom()).isTrue();
    }
    assertThat(new FileJournal(journalDir, 1 << 20).takeAll())
        .extracting(message -> CloudEventCodec.decodeRequestCompleted(message).requestId())
        .containsExactly("req-1", "req-2");
  }

  @Test
  void aFullJournalSaysThereIsNoRoomForMoreCalls() {
    FileJournal journal = new FileJournal(journalDir, 200);
    assertThat(journal.hasRoom()).isTrue();
    journal.append(List.of(CloudEventCodec.encode(request(1), "/test")));
    assertThat(journal.hasRoom()).isFalse();
  }

  /**
   * Reads {@code topic} until {@code expected} request ids have arrived; the caller asserts on
   * them.
   */
  private static List<String> readAll(String bootstrap, String topic, int expected) {
    List<String> ids = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrap, topic)) {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (Set.copyOf(ids).size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          ids.add(CloudEventCodec.decodeRequestCompleted(record.value()).requestId());
        }
      }
    }
    return ids;
  }

  /** A consumer of {@code topic} from its start. */
  private static KafkaConsumer<String, byte[]> consumer(String bootstrap, String topic) {
    KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "test",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
            new StringDeserializer(),
            new ByteArrayDeserializer());
    consumer.subscribe(List.of(topic));
    return consumer;
  }

  /** Waits up to 10 s for the outbox's journal to hold {@code count} events; the caller asserts. */
  private static void awaitWaiting(RequestOutbox outbox, long count) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (outbox.waiting() != count && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }
}
