package io.tollgate.ledger.intake;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tollgate.contracts.CloudEventCodec;
import io.tollgate.contracts.CloudEventCodec.MalformedEventException;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.account.AccountRefusedException;
import io.tollgate.ledger.infrastructure.Causes;
import io.tollgate.ledger.infrastructure.CommandBatcher;
import io.tollgate.ledger.infrastructure.CommandBatcher.Outcome;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.axonframework.modelling.command.AggregateNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;

/**
 * Turns a batch of {@code RequestCompleted} records into charges, all stored in one commit.
 *
 * <p>The listener returns only after the charges are committed and the dead letters are on Kafka;
 * only then does the container commit the batch's offsets. A crash in between redelivers the batch,
 * and the request ids make that harmless. A record that cannot be charged (not a valid event, or
 * for a key the ledger does not know) goes to the dead-letter topic with its reason and the
 * consumer moves on. A failure that is not the record's fault (the database is away) is thrown, and
 * the container delivers the batch again.
 */
public class RequestIntake {

  private static final Logger log = LoggerFactory.getLogger(RequestIntake.class);

  public static final String LISTENER_ID = "tollgate-intake";
  public static final String REASON_HEADER = "tollgate-dead-letter-reason";

  private final CommandBatcher batcher;
  private final KafkaTemplate<String, byte[]> producer;
  private final String deadLetterTopic;
  private final Clock clock;
  private final Counter stored;
  private final Counter deadLettered;

  public RequestIntake(
      CommandBatcher batcher,
      KafkaTemplate<String, byte[]> producer,
      String deadLetterTopic,
      Clock clock,
      MeterRegistry meters) {
    this.batcher = batcher;
    this.producer = producer;
    this.deadLetterTopic = deadLetterTopic;
    this.clock = clock;
    this.stored =
        Counter.builder("tollgate.intake.stored")
            .description("requests stored by the ledger")
            .register(meters);
    this.deadLettered =
        Counter.builder("tollgate.intake.dead_lettered")
            .description("messages sent to the dead-letter topic")
            .register(meters);
  }

  private record DeadLetter(ConsumerRecord<String, byte[]> record, String reason) {}

  @KafkaListener(
      id = LISTENER_ID,
      topics = "${tollgate.kafka.requests-topic}",
      containerFactory = "intakeContainerFactory",
      batch = "true",
      autoStartup = "false")
  public void onBatch(List<ConsumerRecord<String, byte[]>> records) {
    List<ChargeRequestCommand> commands = new ArrayList<>(records.size());
    List<ConsumerRecord<String, byte[]>> sources = new ArrayList<>(records.size());
    List<DeadLetter> deadLetters = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> record : records) {
      RequestCompleted request;
      try {
        request = CloudEventCodec.decodeRequestCompleted(record.value());
      } catch (MalformedEventException malformed) {
        deadLetters.add(new DeadLetter(record, malformed.getMessage()));
        continue;
      }
      List<String> violations = request.violations();
      if (!violations.isEmpty()) {
        deadLetters.add(new DeadLetter(record, String.join("; ", violations)));
        continue;
      }
      commands.add(new ChargeRequestCommand(request.keyId(), request, clock.instant()));
      sources.add(record);
    }
    List<Outcome> outcomes = batcher.dispatchAll(commands);
    for (int i = 0; i < outcomes.size(); i++) {
      Throwable failure = outcomes.get(i).failure();
      if (failure == null) {
        stored.increment();
        continue;
      }
      if (!isTheRecordsFault(failure)) {
        throw new IllegalStateException(
            "the ledger could not store a batch; it will be delivered again", failure);
      }
      deadLetters.add(
          new DeadLetter(
              sources.get(i), failure.getClass().getSimpleName() + ": " + failure.getMessage()));
    }
    sendAll(deadLetters);
  }

  /**
   * A key the ledger does not have, or a request the account refuses, will fail however often it is
   * retried; anything else (a lost connection, a full disk) may not, and is retried.
   */
  private static boolean isTheRecordsFault(Throwable failure) {
    return Causes.any(
        failure,
        cause ->
            cause instanceof AggregateNotFoundException
                || cause instanceof AccountRefusedException
                || cause instanceof IllegalArgumentException);
  }

  private void sendAll(List<DeadLetter> deadLetters) {
    if (deadLetters.isEmpty()) {
      return;
    }
    List<CompletableFuture<?>> sent = new ArrayList<>(deadLetters.size());
    for (DeadLetter dead : deadLetters) {
      ConsumerRecord<String, byte[]> source = dead.record();
      ProducerRecord<String, byte[]> copy =
          new ProducerRecord<>(deadLetterTopic, source.key(), source.value());
      copy.headers().add(REASON_HEADER, dead.reason().getBytes(StandardCharsets.UTF_8));
      copy.headers()
          .add(
              "tollgate-source",
              (source.topic() + "-" + source.partition() + "@" + source.offset())
                  .getBytes(StandardCharsets.UTF_8));
      sent.add(producer.send(copy));
      log.warn(
          "dead-lettered {}-{}@{}: {}",
          source.topic(),
          source.partition(),
          source.offset(),
          dead.reason());
    }
    try {
      CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    } catch (Exception failure) {
      if (failure instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException(
          "could not dead-letter " + deadLetters.size() + " messages", failure);
    }
    deadLettered.increment(deadLetters.size());
  }
}
