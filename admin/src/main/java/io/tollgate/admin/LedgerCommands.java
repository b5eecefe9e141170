package io.tollgate.admin;

import io.tollgate.ledger.account.AccountRefusedException;
import io.tollgate.ledger.infrastructure.CommandBatcher;
import io.tollgate.projections.status.ViewStatus;
import java.time.Duration;
import java.util.List;
import org.axonframework.commandhandling.CommandExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;

/**
 * Sends an admin command to the ledger (through Axon's command gateway, in one transaction) and
 * then waits until the views processor has applied every event committed so far, so that the next
 * read of {@code api_keys_states} shows the change. The views stay asynchronous for the gateway's
 * charges; only an operator's call waits, and only for as long as the processor needs.
 */
public class LedgerCommands {

  private static final Logger log = LoggerFactory.getLogger(LedgerCommands.class);

  private final CommandBatcher batcher;
  private final ViewStatus views;
  private final Duration maxWait;

  public LedgerCommands(CommandBatcher batcher, ViewStatus views, Duration maxWait) {
    this.batcher = batcher;
    this.views = views;
    this.maxWait = maxWait;
  }

  /**
   * Runs {@code command}; a business refusal of the ledger becomes a 409 (unlimited balance) or a
   * 400 (invalid amount) naming {@code param}.
   */
  public void send(Object command, String param) {
    CommandBatcher.Outcome outcome = batcher.dispatchAll(List.of(command)).get(0);
    if (!outcome.succeeded()) {
      AccountRefusedException refusal = refusal(outcome.failure());
      if (refusal == null) {
        throw new IllegalStateException("the ledger could not run " + command, outcome.failure());
      }
      HttpStatus status =
          switch (refusal.reason()) {
            case UNLIMITED_BALANCE, DUPLICATE_CORRECTION -> HttpStatus.CONFLICT;
            case INVALID_AMOUNT -> HttpStatus.BAD_REQUEST;
          };
      throw new ApiError(
          status,
          "invalid_request_error",
          refusal.reason().name().toLowerCase(),
          param,
          refusal.getMessage());
    }
    if (!views.awaitCaughtUp(maxWait)) {
      log.warn("the views did not catch up within {} after {}", maxWait, command);
    }
  }

  private static AccountRefusedException refusal(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof AccountRefusedException refused) {
        return refused;
      }
      if (t instanceof CommandExecutionException execution
          && execution.getDetails().orElse(null) instanceof AccountRefusedException refused) {
        return refused;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }
}
