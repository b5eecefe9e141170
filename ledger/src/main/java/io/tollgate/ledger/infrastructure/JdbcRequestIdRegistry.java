package io.tollgate.ledger.infrastructure;

import io.tollgate.ledger.account.AccountCommands.ChargeRequestCommand;
import io.tollgate.ledger.account.RequestIdRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Array;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.axonframework.messaging.unitofwork.CurrentUnitOfWork;
import org.axonframework.messaging.unitofwork.UnitOfWork;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The request-id registry in PostgreSQL. Every insert runs on the connection of the current
 * transaction, the one that appends the charge event, so the id and the event commit together or
 * not at all. A concurrent claim of the same id waits for the first transaction and then sees the
 * id as taken.
 *
 * <p>What is stored is the id's claim ({@link #claimOf}): 16 bytes that stand for the key id and
 * the request id together, so the table and its index stay a quarter of the size the two strings
 * made them, and compare as bytes.
 *
 * <p>A batch claims all its ids in one statement before its commands run ({@link #claimBatch});
 * each command then takes its answer from that claim instead of a round trip of its own.
 */
public class JdbcRequestIdRegistry implements RequestIdRegistry {

  private static final String BATCH_CLAIM = JdbcRequestIdRegistry.class.getName() + ".batch";

  private static final MessageDigest SHA_256;

  static {
    try {
      SHA_256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new ExceptionInInitializerError(e); // every Java runtime has SHA-256
    }
  }

  private final JdbcTemplate jdbc;

  public JdbcRequestIdRegistry(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  /** The claims a batch asked for, and those of them that were new. */
  private record BatchClaim(Set<UUID> asked, Set<UUID> claimed) {}

  /**
   * The claim of {@code requestId} for {@code keyId}: the first 128 bits of SHA-256 over the key
   * id, a zero byte and the request id, in UTF-8. Key ids never hold a zero byte, so no two pairs
   * hash the same input; two different pairs share a claim with a chance of about 2^-128. Migration
   * V102 computes the same in SQL for the ids recorded before claims were hashed.
   */
  static UUID claimOf(String keyId, String requestId) {
    MessageDigest sha;
    try {
      sha = (MessageDigest) SHA_256.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("this runtime's SHA-256 cannot be cloned", e);
    }
    sha.update(keyId.getBytes(StandardCharsets.UTF_8));
    sha.update((byte) 0);
    sha.update(requestId.getBytes(StandardCharsets.UTF_8));
    ByteBuffer digest = ByteBuffer.wrap(sha.digest());
    return new UUID(digest.getLong(), digest.getLong());
  }

  @Override
  public boolean claim(String keyId, String requestId) {
    UUID claim = claimOf(keyId, requestId);
    if (CurrentUnitOfWork.isStarted()) {
      BatchClaim batch = CurrentUnitOfWork.get().root().getResource(BATCH_CLAIM);
      if (batch != null && batch.asked().contains(claim)) {
        // removed on first use: a second copy of the request in the same batch is a duplicate
        return batch.claimed().remove(claim);
      }
    }
    return jdbc.update(
            "INSERT INTO ledger_request_claim (claim) VALUES (?) ON CONFLICT DO NOTHING", claim)
        == 1;
  }

  /**
   * Claims the request ids of every charge in {@code batch} with one statement, inside the batch's
   * unit of work and transaction. Claims go in sorted, so two batches that share ids lock them in
   * the same order and cannot deadlock.
   */
  public void claimBatch(List<?> batch) {
    if (!CurrentUnitOfWork.isStarted()) {
      return;
    }
    List<UUID> claims = new ArrayList<>();
    for (Object command : batch) {
      if (command instanceof ChargeRequestCommand charge) {
        claims.add(claimOf(charge.keyId(), charge.request().requestId()));
      }
    }
    if (claims.isEmpty()) {
      return;
    }
    claims.sort(null);
    Set<UUID> claimed = new HashSet<>();
    jdbc.query(
        connection -> {
          var statement =
              connection.prepareStatement(
                  "INSERT INTO ledger_request_claim (claim) SELECT * FROM unnest(?::uuid[])"
                      + " ON CONFLICT DO NOTHING RETURNING claim");
          Array array = connection.createArrayOf("uuid", claims.toArray());
          statement.setArray(1, array);
          return statement;
        },
        row -> {
          claimed.add(row.getObject(1, UUID.class));
        });
    UnitOfWork<?> root = CurrentUnitOfWork.get().root();
    root.resources().put(BATCH_CLAIM, new BatchClaim(new HashSet<>(claims), claimed));
  }
}
