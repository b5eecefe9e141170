package io.tollgate.ledger.infrastructure;

import java.sql.SQLException;
import org.axonframework.common.jdbc.PersistenceExceptionResolver;

/**
 * Tells Axon when an append failed because another writer stored an event at the same sequence
 * number first: PostgreSQL's {@code unique_violation} (SQLSTATE 23505), looked for through the
 * causes and through each {@link SQLException}'s chain of next exceptions, where the driver puts
 * the statement's own error when a batched insert fails. Axon then raises a {@code
 * ConcurrencyException}, which {@link CommandBatcher} runs again on the stored events. Axon's
 * {@code JdbcSQLErrorCodesResolver} missed it in batched inserts, so such a conflict surfaced as a
 * plain storage failure.
 */
public final class PostgresDuplicateKeyResolver implements PersistenceExceptionResolver {

  private static final String UNIQUE_VIOLATION = "23505";

  @Override
  public boolean isDuplicateKeyViolation(Exception exception) {
    return Causes.any(
        exception, cause -> cause instanceof SQLException sql && isUniqueViolation(sql));
  }

  private static boolean isUniqueViolation(SQLException sql) {
    for (SQLException next = sql; next != null; next = next.getNextException()) {
      if (UNIQUE_VIOLATION.equals(next.getSQLState())) {
        return true;
      }
    }
    return false;
  }
}
