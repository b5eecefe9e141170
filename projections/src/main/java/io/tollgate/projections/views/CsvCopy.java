package io.tollgate.projections.views;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.springframework.jdbc.datasource.DataSourceUtils;

/**
 * One {@code COPY ... FROM STDIN (FORMAT csv)} on the current transaction's connection, fed as rows
 * are written: every quarter megabyte goes to PostgreSQL, which parses it while the next is being
 * encoded, instead of one string of the whole table built first and parsed after.
 */
final class CsvCopy implements AutoCloseable {

  private static final int FLUSH_AT = 1 << 18;

  private final String table;
  private final DataSource dataSource;
  private final Connection connection;
  private final CopyIn copy;
  private final StringBuilder csv = new StringBuilder(FLUSH_AT + (FLUSH_AT >> 2));

  /**
   * @param table the table and its column list, as COPY names them
   */
  CsvCopy(DataSource dataSource, String table) {
    this.table = table;
    this.dataSource = dataSource;
    this.connection = DataSourceUtils.getConnection(dataSource);
    try {
      this.copy =
          connection
              .unwrap(PGConnection.class)
              .getCopyAPI()
              .copyIn("COPY " + table + " FROM STDIN (FORMAT csv)");
    } catch (SQLException e) {
      DataSourceUtils.releaseConnection(connection, dataSource);
      throw new IllegalStateException("could not start writing " + table, e);
    }
  }

  /**
   * The row being written: append fields with {@link JdbcViewStore#appendCsv}, then {@link
   * #endRow}.
   */
  StringBuilder csv() {
    return csv;
  }

  void endRow() {
    csv.append('\n');
    if (csv.length() >= FLUSH_AT) {
      flush();
    }
  }

  private void flush() {
    byte[] bytes = csv.toString().getBytes(StandardCharsets.UTF_8);
    csv.setLength(0);
    try {
      copy.writeToCopy(bytes, 0, bytes.length);
    } catch (SQLException e) {
      throw new IllegalStateException("could not write " + table, e);
    }
  }

  /** Sends what is left and ends the COPY: the rows are in the table, the connection free again. */
  void finish() {
    flush();
    try {
      copy.endCopy();
    } catch (SQLException e) {
      throw new IllegalStateException("could not write " + table, e);
    }
  }

  /** Cancels the COPY unless {@link #finish()} ended it, and releases the connection. */
  @Override
  public void close() {
    try {
      if (copy.isActive()) {
        copy.cancelCopy();
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not cancel writing " + table, e);
    } finally {
      DataSourceUtils.releaseConnection(connection, dataSource);
    }
  }
}
