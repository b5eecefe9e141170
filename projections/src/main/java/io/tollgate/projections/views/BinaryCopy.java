package io.tollgate.projections.views;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.springframework.jdbc.datasource.DataSourceUtils;

/**
 * One {@code COPY ... FROM STDIN (FORMAT binary)} on the current transaction's connection, fed row
 * by row. PostgreSQL's binary form spares both sides the text: no decimal or timestamp is printed
 * here or parsed there, which was a third of what PostgreSQL spent taking in a rebuilt history.
 *
 * <p>A row is {@link #row(int)}, then one call per column in the table's column order ({@link
 * #nul()} for NULL). What goes out: {@code bigint}, {@code integer}, {@code boolean}, {@code text}
 * and {@code varchar}, {@code timestamptz} (microseconds, rounded half to even from an instant's
 * nanoseconds), and {@code numeric} (exact, at the value's own scale).
 */
final class BinaryCopy implements AutoCloseable {

  private static final byte[] HEADER = {
    'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0
  };
  private static final int FLUSH_AT = 1 << 18;

  private static final long[] POWERS_OF_TEN = {1, 10, 100, 1_000};
  private static final BigInteger TEN_THOUSAND = BigInteger.valueOf(10_000);

  /** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix seconds. */
  private static final long PG_EPOCH = 946_684_800L;

  private final String table;
  private final DataSource dataSource;
  private final Connection connection;
  private final CopyIn copy;
  private byte[] buffer = new byte[FLUSH_AT + (FLUSH_AT >> 1)];
  private int length;

  /**
   * @param table the table and its column list, as COPY names them
   */
  BinaryCopy(DataSource dataSource, String table) {
    this.table = table;
    this.dataSource = dataSource;
    this.connection = DataSourceUtils.getConnection(dataSource);
    try {
      this.copy =
          connection
              .unwrap(PGConnection.class)
              .getCopyAPI()
              .copyIn("COPY " + table + " FROM STDIN (FORMAT binary)");
    } catch (SQLException e) {
      DataSourceUtils.releaseConnection(connection, dataSource);
      throw new IllegalStateException("could not start writing " + table, e);
    }
    bytes(HEADER, HEADER.length);
  }

  /** Starts a row of {@code columns} fields; the previous row, if any, is complete. */
  BinaryCopy row(int columns) {
    if (length >= FLUSH_AT) {
      flush();
    }
    return int16(columns);
  }

  BinaryCopy nul() {
    return int32(-1);
  }

  BinaryCopy int8(long value) {
    int32(8);
    ensure(8);
    for (int shift = 56; shift >= 0; shift -= 8) {
      buffer[length++] = (byte) (value >>> shift);
    }
    return this;
  }

  BinaryCopy int8(Long value) {
    return value == null ? nul() : int8(value.longValue());
  }

  BinaryCopy int4(Integer value) {
    return value == null ? nul() : int32(4).int32(value);
  }

  BinaryCopy bool(Boolean value) {
    if (value == null) {
      return nul();
    }
    int32(1);
    ensure(1);
    buffer[length++] = (byte) (value ? 1 : 0);
    return this;
  }

  BinaryCopy text(String value) {
    if (value == null) {
      return nul();
    }
    // For ASCII the JDK's encoder is one array copy, faster than any loop here.
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    int32(utf8.length);
    return bytes(utf8, utf8.length);
  }

  BinaryCopy timestamptz(Instant value) {
    if (value == null) {
      return nul();
    }
    long micros = value.getNano() / 1_000;
    int rest = value.getNano() % 1_000;
    if (rest > 500 || (rest == 500 && (micros & 1) == 1)) {
      micros++; // half to even, as PostgreSQL rounds a fraction it is given as text
    }
    return int8(
        Math.addExact(Math.multiplyExact(value.getEpochSecond() - PG_EPOCH, 1_000_000L), micros));
  }

  /**
   * A numeric: the digits in groups of four around the decimal point (base 10,000), the weight of
   * the first group, the sign and the display scale.
   */
  BinaryCopy numeric(BigDecimal value) {
    if (value == null) {
      return nul();
    }
    if (value.scale() < 0) {
      value = value.setScale(0);
    }
    int scale = value.scale();
    BigInteger unscaled = value.unscaledValue();
    int sign = unscaled.signum() < 0 ? 0x4000 : 0;
    // Scale the digits up to a whole number of fraction groups; then every four digits from the
    // right are one group.
    int fractionGroups = (scale + 3) / 4;
    int pad = fractionGroups * 4 - scale;
    short[] groups; // least significant first
    int count;
    if (unscaled.bitLength() <= 52) { // times 10^3 still fits a long: no BigInteger arithmetic
      long digits = Math.abs(unscaled.longValue()) * POWERS_OF_TEN[pad];
      groups = new short[6];
      count = 0;
      while (digits != 0) {
        groups[count++] = (short) (digits % 10_000);
        digits /= 10_000;
      }
    } else {
      BigInteger digits = unscaled.abs().multiply(BigInteger.valueOf(POWERS_OF_TEN[pad]));
      groups = new short[digits.bitLength() / 13 + 2]; // 10,000 > 2^13
      count = 0;
      while (digits.signum() != 0) {
        BigInteger[] qr = digits.divideAndRemainder(TEN_THOUSAND);
        groups[count++] = qr[1].shortValue();
        digits = qr[0];
      }
    }
    int low = 0;
    while (low < count && groups[low] == 0) {
      low++; // trailing zero groups are implied
    }
    int weight = count == 0 ? 0 : count - 1 - fractionGroups;
    int written = count - low;
    int32(8 + 2 * written);
    int16(written).int16(weight).int16(written == 0 ? 0 : sign).int16(scale);
    for (int i = count - 1; i >= low; i--) {
      int16(groups[i]);
    }
    return this;
  }

  private BinaryCopy int16(int value) {
    ensure(2);
    buffer[length++] = (byte) (value >>> 8);
    buffer[length++] = (byte) value;
    return this;
  }

  private BinaryCopy int32(int value) {
    ensure(4);
    buffer[length++] = (byte) (value >>> 24);
    buffer[length++] = (byte) (value >>> 16);
    buffer[length++] = (byte) (value >>> 8);
    buffer[length++] = (byte) value;
    return this;
  }

  private BinaryCopy bytes(byte[] bytes, int count) {
    ensure(count);
    System.arraycopy(bytes, 0, buffer, length, count);
    length += count;
    return this;
  }

  private void ensure(int more) {
    if (length + more > buffer.length) {
      buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + more));
    }
  }

  private void flush() {
    try {
      copy.writeToCopy(buffer, 0, length);
    } catch (SQLException e) {
      throw new IllegalStateException("could not write " + table, e);
    }
    length = 0;
  }

  /** Sends what is left and ends the COPY: the rows are in the table, the connection free again. */
  void finish() {
    int16(-1);
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
