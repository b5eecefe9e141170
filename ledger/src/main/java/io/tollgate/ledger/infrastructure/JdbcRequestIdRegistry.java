package io.tollgate.ledger.infrastructure;

import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.account.RequestIdRegistry;
import java.sql.Array;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The request-id registry in PostgreSQL. Every insert runs on the connection of the current
 * transaction, the one that appends the charge event, so the id and the event commit together or
 * not at all. A concurrent claim of the same id waits for the first transaction and then sees the
 * id as taken.
 *
 * <p>A batch claims all its ids in one statement before its commands run ({@link #claimBatch});
 * each command then takes its answer from that claim instead of a round trip of its own.
 */
public class JdbcRequestIdRegistry implements RequestIdRegistry {

  private static final String BATCH_CLAIM = JdbcRequestIdRegistry.class.getName() + ".batch";

  private final JdbcTemplate jdbc;

  public JdbcRequestIdRegistry(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  /** The ids a batch asked for, and those of them that were new. */
  private record BatchClaim(Set<RequestKey> asked, Set<RequestKey> claimed) {}

  /**
   * A request id with its key id. A record rather than the two joined in a string: its hash is made
   * of the two strings' own cached hashes, where the joined strings were built, hashed and compared
   * anew in the batch's claim and again in each charge's.
   */
  private record RequestKey(String keyId, String requestId) {}

  @Override
  public boolean claim(String keyId, String requestId) {
    RequestKey id = new RequestKey(keyId, requestId);
    if (CurrentUnitOfWork.isStarted()) {
      BatchClaim batch = CurrentUnitOfWork.get().root().getResource(BATCH_CLAIM);
      if (batch != null && batch.asked().contains(id)) {
        // removed on first use: a second copy of the request in the same batch is a duplicate
        return batch.claimed().remove(id);
      }
    }
    return jdbc.update(
            "INSERT INTO ledger_request_id (key_id, request_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            keyId,
            requestId)
        == 1;
  }

  /**
   * Claims the request ids of every charge in {@code batch} with one statement, inside the batch's
   * unit of work and transaction. Rows go in sorted, so two batches that share ids lock them in the
   * same order and cannot deadlock.
   */
  public void claimBatch(List<?> batch) {
    List<ChargeRequestCommand> charges = new ArrayList<>();
    for (Object command : batch) {
      if (command instanceof ChargeRequestCommand charge) {
        charges.add(charge);
      }
    }
    if (charges.isEmpty() || !CurrentUnitOfWork.isStarted()) {
      return;
    }
    charges.sort(
        Comparator.comparing(ChargeRequestCommand::keyId)
            .thenComparing(charge -> charge.request().requestId()));
    String[] keyIds = new String[charges.size()];
    String[] requestIds = new String[charges.size()];
    Set<RequestKey> asked = new HashSet<>();
    for (int i = 0; i < charges.size(); i++) {
      keyIds[i] = charges.get(i).keyId();
      requestIds[i] = charges.get(i).request().requestId();
      asked.add(new RequestKey(keyIds[i], requestIds[i]));
    }
    Set<RequestKey> claimed = new HashSet<>();
    jdbc.query(
        connection -> {
          var statement =
              connection.prepareStatement(
                  "INSERT INTO ledger_request_id (key_id, request_id)"
                      + " SELECT * FROM unnest(?::varchar[], ?::varchar[])"
                      + " ON CONFLICT DO NOTHING RETURNING key_id, request_id");
          Array keys = connection.createArrayOf("varchar", keyIds);
          Array requests = connection.createArrayOf("varchar", requestIds);
          statement.setArray(1, keys);
          statement.setArray(2, requests);
          return statement;
        },
        row -> {
          claimed.add(new RequestKey(row.getString(1), row.getString(2)));
        });
    UnitOfWork<?> root = CurrentUnitOfWork.get().root();
    root.resources().put(BATCH_CLAIM, new BatchClaim(asked, claimed));
  }
}
