package io.tollgate.ledger.infrastructure;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import io.tollgate.ledger.LedgerTestApplication;
import io.tollgate.ledger.account.AccountCommands.AddCountCreditsCommand;
import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.account.AccountEvent;
import io.tollgate.ledger.account.AccountState;
import io.tollgate.ledger.account.KeyAccount;
import io.tollgate.testing.TestPostgres;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.axonframework.eventhandling.DomainEventMessage;
import org.axonframework.eventsourcing.eventstore.DomainEventStream;
import org.axonframework.eventsourcing.eventstore.EventStorageEngine;
import org.axonframework.messaging.unitofwork.DefaultUnitOfWork;
import org.axonframework.modelling.command.Repository;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The ledger against real PostgreSQL: events, snapshots and request ids stored, and idempotency
 * that holds across a restart of the application.
 */
class LedgerStoreTest {

  private static final String COUNT_KEY = KeyIds.of("sk-count-user-key");
  private static final String TOKEN_KEY = KeyIds.of("sk-token-user-key");

  private final TestPostgres.Database database = TestPostgres.newDatabase();
  private ConfigurableApplicationContext ledger;

  private ConfigurableApplicationContext start(String... properties) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "spring.datasource.url=" + database.jdbcUrl(),
                "spring.datasource.username=" + database.username(),
                "spring.datasource.password=" + database.password()));
    all.addAll(List.of(properties));
    ledger =
        new SpringApplicationBuilder(LedgerTestApplication.class)
            .properties(all.toArray(String[]::new))
            .run();
    return ledger;
  }

  @AfterEach
  void stop() {
    if (ledger != null) {
      ledger.close();
    }
  }

  private static RequestCompleted request(String keyId, String id) {
    Instant end = Instant.now();
    return new RequestCompleted(
        id,
        keyId,
        "gpt-4o",
        "/v1/chat/completions",
        "openai",
        true,
        200,
        1000,
        500,
        false,
        end.minusMillis(200),
        end);
  }

  private long events(String type) {
    return ledger
        .getBean(JdbcTemplate.class)
        .queryForObject(
            "SELECT count(*) FROM domain_event_entry WHERE payload_type LIKE ?",
            Long.class,
            "%" + type);
  }

  private AccountState state(String keyId) {
    @SuppressWarnings("unchecked")
    Repository<KeyAccount> repository = ledger.getBean("keyAccountRepository", Repository.class);
    return DefaultUnitOfWork.startAndGet(null)
        .executeWithResult(() -> repository.load(keyId).invoke(KeyAccount::state))
        .getPayload();
  }

  @Test
  void keysOfTheConfigAreRegisteredOnceAcrossRestarts() {
    start();
    assertThat(events("KeyRegistered")).isEqualTo(4);
    ledger.close();
    start();
    assertThat(events("KeyRegistered")).isEqualTo(4);
  }

  @Test
  void sameRequestDeliveredAHundredTimesAcrossARestartIsChargedOnce() {
    start();
    CommandBatcher batcher = ledger.getBean(CommandBatcher.class);
    RequestCompleted request = request(COUNT_KEY, "req-dup");
    List<ChargeRequestCommand> copies = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      copies.add(new ChargeRequestCommand(COUNT_KEY, request, Instant.now()));
    }
    assertThat(batcher.dispatchAll(copies)).allMatch(CommandBatcher.Outcome::succeeded);
    assertThat(events("RequestCharged")).isEqualTo(1);

    ledger.close();
    start();
    batcher = ledger.getBean(CommandBatcher.class);
    for (int i = 0; i < 50; i++) {
      batcher.dispatchAll(List.of(new ChargeRequestCommand(COUNT_KEY, request, Instant.now())));
    }
    assertThat(events("RequestCharged")).isEqualTo(1);
    List<ChargeRequestCommand> mixed = new ArrayList<>();
    mixed.add(new ChargeRequestCommand(COUNT_KEY, request, Instant.now()));
    mixed.add(new ChargeRequestCommand(COUNT_KEY, request(COUNT_KEY, "req-new"), Instant.now()));
    mixed.add(new ChargeRequestCommand(COUNT_KEY, request, Instant.now()));
    assertThat(batcher.dispatchAll(mixed)).allMatch(CommandBatcher.Outcome::succeeded);
    assertThat(events("RequestCharged")).isEqualTo(2);
    assertThat(state(COUNT_KEY).countBalance()).contains(998L);
  }

  @Test
  void adminTopUpSurvivesARestartWithTheSameConfig() {
    start();
    ledger
        .getBean(CommandBatcher.class)
        .dispatchAll(List.of(new AddCountCreditsCommand(COUNT_KEY, 100, "paid", Instant.now())));
    ledger.close();
    start();
    assertThat(state(COUNT_KEY).countCredits()).isEqualTo(1100);
  }

  @Test
  void oneBadCommandInABatchCostsNoOtherCommandItsCharge() {
    start();
    String unknownKey = KeyIds.of("sk-never-configured");
    List<ChargeRequestCommand> batch = charges(TOKEN_KEY, "good-", 20);
    batch.add(7, new ChargeRequestCommand(unknownKey, request(unknownKey, "bad"), Instant.now()));
    List<CommandBatcher.Outcome> outcomes = ledger.getBean(CommandBatcher.class).dispatchAll(batch);
    assertThat(outcomes).hasSize(21);
    assertThat(outcomes.get(7).succeeded()).isFalse();
    assertThat(outcomes.stream().filter(CommandBatcher.Outcome::succeeded)).hasSize(20);
    assertThat(events("RequestCharged")).isEqualTo(20);
    assertThat(state(TOKEN_KEY).usdBalance())
        .get()
        .satisfies(left -> assertThat(left).isEqualByComparingTo("9.96"));
  }

  @Test
  void snapshotsAreTakenOffTheCommittingThread() {
    start("tollgate.ledger.snapshot-every=10");
    CommandBatcher batcher = ledger.getBean(CommandBatcher.class);
    assertThat(batcher.dispatchAll(charges(TOKEN_KEY, "t-", 25)))
        .allMatch(CommandBatcher.Outcome::succeeded);
    long rows = snapshotsWithin(10_000);
    assertThat(rows).isPositive();
    // the snapshots are this snapshotter's, which writes only on its own thread (a newer snapshot
    // of a key replaces the older one, so there may be fewer rows than snapshots written). It
    // counts a snapshot once its transaction has committed, so a row can be seen a moment before
    // the count.
    CachedStateSnapshotter snapshotter = ledger.getBean(CachedStateSnapshotter.class);
    assertThat(poll(snapshotter::snapshotsWritten, written -> written >= rows, 5_000))
        .isGreaterThanOrEqualTo(rows);
    assertThat(Thread.getAllStackTraces().keySet())
        .anyMatch(thread -> thread.getName().equals("ledger-snapshots"));
  }

  /**
   * A snapshot taken from a cached account, and one of an account loaded back from the store (a
   * cache of one account evicts it between commands), both hold exactly the state that replaying
   * the account's events up to the snapshot's sequence number gives.
   */
  @ParameterizedTest
  @ValueSource(ints = {100_000, 1})
  void aSnapshotHoldsExactlyTheStateItsEventsReplayTo(int cachedAccounts) {
    start("tollgate.ledger.snapshot-every=7", "tollgate.ledger.cached-accounts=" + cachedAccounts);
    CommandBatcher batcher = ledger.getBean(CommandBatcher.class);
    List<Object> commands = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      commands.add(
          new ChargeRequestCommand(TOKEN_KEY, request(TOKEN_KEY, "t-" + i), Instant.now()));
      commands.add(
          new ChargeRequestCommand(COUNT_KEY, request(COUNT_KEY, "c-" + i), Instant.now()));
      if (i == 20) {
        commands.add(new AddCountCreditsCommand(COUNT_KEY, 5, "top-up", Instant.now()));
      }
    }
    for (int from = 0; from < commands.size(); from += 27) {
      assertThat(batcher.dispatchAll(commands.subList(from, Math.min(from + 27, commands.size()))))
          .allMatch(CommandBatcher.Outcome::succeeded);
    }
    EventStorageEngine storage = ledger.getBean(EventStorageEngine.class);
    for (String keyId : List.of(TOKEN_KEY, COUNT_KEY)) {
      DomainEventMessage<?> snapshot = latestSnapshotWithin(storage, keyId, 10_000);
      AccountState replayed = null;
      DomainEventStream events = storage.readEvents(keyId, 0);
      while (events.hasNext()
          && events.peek().getSequenceNumber() <= snapshot.getSequenceNumber()) {
        replayed = AccountState.evolve(replayed, (AccountEvent) events.next().getPayload());
      }
      assertThat(((KeyAccount) snapshot.getPayload()).state()).isEqualTo(replayed);
    }
    assertThat(ledger.getBean(CachedStateSnapshotter.class).snapshotsWritten())
        .isGreaterThanOrEqualTo(2);
  }

  /** The key's newest snapshot once it covers the key's last event. */
  private static DomainEventMessage<?> latestSnapshotWithin(
      EventStorageEngine storage, String keyId, long millis) {
    long last = storage.lastSequenceNumberFor(keyId).orElseThrow();
    Optional<DomainEventMessage<?>> snapshot =
        poll(
            () -> storage.readSnapshot(keyId),
            newest -> newest.isPresent() && newest.get().getSequenceNumber() == last,
            millis);
    return snapshot
        .filter(newest -> newest.getSequenceNumber() == last)
        .orElseThrow(
            () ->
                new AssertionError(
                    "no snapshot of "
                        + keyId
                        + " at its last event "
                        + last
                        + ", newest: "
                        + snapshot));
  }

  /** Snapshots are written on their own thread, shortly after the commit that asked for them. */
  private long snapshotsWithin(long millis) {
    JdbcTemplate jdbc = ledger.getBean(JdbcTemplate.class);
    return poll(
        () -> jdbc.queryForObject("SELECT count(*) FROM snapshot_event_entry", Long.class),
        count -> count > 0,
        millis);
  }

  /** Reads until {@code done} holds or {@code millis} have passed, and returns the last read. */
  private static <T> T poll(Supplier<T> read, Predicate<T> done, long millis) {
    long deadline = System.currentTimeMillis() + millis;
    T value = read.get();
    while (!done.test(value) && System.currentTimeMillis() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return value;
      }
      value = read.get();
    }
    return value;
  }

  /** {@code count} charges of one key, their request ids {@code prefix} and a number. */
  private static List<ChargeRequestCommand> charges(String keyId, String prefix, int count) {
    List<ChargeRequestCommand> charges = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      charges.add(new ChargeRequestCommand(keyId, request(keyId, prefix + i), Instant.now()));
    }
    return charges;
  }

  @Test
  void longHistoryIsSnapshottedAndReloadsToTheSameBalance() {
    start("tollgate.ledger.snapshot-every=50");
    CommandBatcher batcher = ledger.getBean(CommandBatcher.class);
    List<ChargeRequestCommand> charges = charges(TOKEN_KEY, "s-", 300);
    Collections.shuffle(charges, new Random(7));
    for (int from = 0; from < charges.size(); from += 30) {
      assertThat(batcher.dispatchAll(charges.subList(from, from + 30)))
          .allMatch(CommandBatcher.Outcome::succeeded);
    }
    assertThat(snapshotsWithin(10_000)).isPositive();
    ledger.close();
    start("tollgate.ledger.snapshot-every=50");
    assertThat(state(TOKEN_KEY).usdBalance())
        .get()
        .satisfies(left -> assertThat(left).isEqualByComparingTo("9.4"));
    assertThat(events("RequestCharged")).isEqualTo(300);
  }
}
