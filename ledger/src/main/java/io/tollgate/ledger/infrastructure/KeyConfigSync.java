package io.tollgate.ledger.infrastructure;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.ApiKeyEntry;
import io.tollgate.config.KeyPreferences;
import io.tollgate.contracts.KeyIds;
import io.tollgate.ledger.account.AccountCommands.ApplyKeyConfigCommand;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;

/**
 * Brings every key of api.yaml into the ledger when the application is ready: new keys are
 * registered, and values the file changed since they were last applied become events. Values the
 * file did not change are left alone, so top-ups and mode changes made through the admin API
 * survive a restart.
 */
public class KeyConfigSync {

  private static final Logger log = LoggerFactory.getLogger(KeyConfigSync.class);
  private static final int BATCH = 500;

  private final ApiConfig config;
  private final CommandBatcher batcher;
  private final Clock clock;

  public KeyConfigSync(ApiConfig config, CommandBatcher batcher) {
    this(config, batcher, Clock.systemUTC());
  }

  KeyConfigSync(ApiConfig config, CommandBatcher batcher, Clock clock) {
    this.config = config;
    this.batcher = batcher;
    this.clock = clock;
  }

  @EventListener(ApplicationReadyEvent.class)
  public void onReady() {
    sync();
  }

  /** Applies the file to the ledger; fails loudly if any key could not be applied. */
  public void sync() {
    Instant now = clock.instant();
    List<ApplyKeyConfigCommand> commands = new ArrayList<>();
    for (ApiKeyEntry entry : config.apiKeys()) {
      commands.add(command(entry, now));
    }
    int failed = 0;
    for (int from = 0; from < commands.size(); from += BATCH) {
      for (CommandBatcher.Outcome outcome :
          batcher.dispatchAll(commands.subList(from, Math.min(commands.size(), from + BATCH)))) {
        if (!outcome.succeeded()) {
          failed++;
          // One stack trace says why; the same cause for every key (the database gone, the
          // application shutting down) would otherwise print a thousand of them.
          if (failed == 1) {
            log.error("could not apply {} to the ledger", outcome.command(), outcome.failure());
          } else {
            log.error(
                "could not apply {} to the ledger: {}",
                outcome.command(),
                outcome.failure().toString());
          }
        }
      }
    }
    if (failed > 0) {
      throw new IllegalStateException(
          failed + " keys of " + config.source() + " could not be applied to the ledger");
    }
    log.info("{} keys of {} applied to the ledger", commands.size(), config.source());
  }

  static ApplyKeyConfigCommand command(ApiKeyEntry entry, Instant now) {
    KeyPreferences preferences = entry.preferences();
    return new ApplyKeyConfigCommand(
        KeyIds.of(entry.key()),
        preferences.billingMode(),
        preferences.credits(),
        preferences.countCredits(),
        preferences.createdAt() == null ? null : preferences.createdAt().toInstant(),
        preferences.enabled(),
        now);
  }
}
