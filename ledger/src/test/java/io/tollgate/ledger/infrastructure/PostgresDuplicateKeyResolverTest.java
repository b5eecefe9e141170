package io.tollgate.ledger.infrastructure;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class PostgresDuplicateKeyResolverTest {

  private final PostgresDuplicateKeyResolver resolver = new PostgresDuplicateKeyResolver();

  @Test
  void aUniqueViolationIsFoundBehindABatchAndItsWrapper() {
    // As the driver reports a failed batched insert: the batch's own state says nothing, the
    // statement's error is its next exception.
    BatchUpdateException batch =
        new BatchUpdateException("Batch entry 0 was aborted", null, 0, null);
    batch.setNextException(new SQLException("duplicate key value", "23505"));

    assertThat(resolver.isDuplicateKeyViolation(batch)).isTrue();
    assertThat(resolver.isDuplicateKeyViolation(new IllegalStateException("append failed", batch)))
        .isTrue();
    assertThat(resolver.isDuplicateKeyViolation(new SQLException("duplicate", "23505"))).isTrue();
  }

  @Test
  void otherFailuresAreNotConflicts() {
    BatchUpdateException batch =
        new BatchUpdateException("Batch entry 0 was aborted", null, 0, null);
    batch.setNextException(new SQLException("value too long", "22001"));

    assertThat(resolver.isDuplicateKeyViolation(batch)).isFalse();
    assertThat(resolver.isDuplicateKeyViolation(new SQLException("connection lost", "08006")))
        .isFalse();
    assertThat(resolver.isDuplicateKeyViolation(new IllegalStateException("no SQL at all")))
        .isFalse();
  }
}
