package io.tollgate.ledger.infrastructure;

import io.tollgate.ledger.account.RequestIdRegistry;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The request-id registry in PostgreSQL. The insert runs on the connection of the current
 * transaction, the one that appends the charge event, so both commit or neither does. A concurrent
 * claim of the same id waits for the first transaction and then sees the id as taken.
 */
public class JdbcRequestIdRegistry implements RequestIdRegistry {

  private final JdbcTemplate jdbc;

  public JdbcRequestIdRegistry(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  @Override
  public boolean claim(String keyId, String requestId) {
    return jdbc.update(
            "INSERT INTO ledger_request_id (key_id, request_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            keyId,
            requestId)
        == 1;
  }
}
