package io.tollgate.projections.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.tollgate.ledger.account.AccountEvent;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.PGCopyInputStream;

/**
 * Streams the event store, oldest first, into decoded chunks for a rebuild. One {@code COPY ... TO
 * STDOUT (FORMAT binary)} reads every event up to a global index: the payload arrives as its raw
 * bytes (a plain query sends bytea hex-encoded, twice the size, and decodes it on the client), in
 * one statement with one consistent snapshot, and without a round trip per chunk.
 *
 * <p>Runs on its own thread and its own connection, so that PostgreSQL reads and this thread
 * decodes while the caller folds the previous chunk.
 */
final class EventStoreCopy implements Runnable {

  /** What the reader hands over: decoded events, the end with the gaps seen, or a failure. */
  sealed interface Item {}

  record Chunk(long[] globalIndexes, AccountEvent[] events, int size, long lastIndex)
      implements Item {}

  record End(List<Long> gaps) implements Item {}

  record Failed(Exception cause) implements Item {}

  private static final byte[] SIGNATURE =
      "PGCOPY\n\377\r\n\0".getBytes(StandardCharsets.ISO_8859_1);

  private final DataSource dataSource;
  private final ObjectMapper mapper;
  private final long head;
  private final int maxGapOffset;
  private final int chunkSize;
  private final BlockingQueue<Item> out;
  private final BooleanSupplier cancelled;
  private final Map<String, ObjectReader> readers = new HashMap<>();

  /**
   * @param head the highest global index to read
   * @param maxGapOffset gaps further than this below {@code head} are not reported
   * @param cancelled polled while the queue is full: the consumer gave up
   */
  EventStoreCopy(
      DataSource dataSource,
      ObjectMapper mapper,
      long head,
      int maxGapOffset,
      int chunkSize,
      BlockingQueue<Item> out,
      BooleanSupplier cancelled) {
    this.dataSource = dataSource;
    this.mapper = mapper;
    this.head = head;
    this.maxGapOffset = maxGapOffset;
    this.chunkSize = chunkSize;
    this.out = out;
    this.cancelled = cancelled;
  }

  @Override
  public void run() {
    try (Connection connection = dataSource.getConnection()) {
      read(connection);
    } catch (Exception e) {
      hand(new Failed(e));
    }
  }

  private void read(Connection connection) throws SQLException, IOException {
    // head is a long, so it is safe in the text; COPY takes no bind parameters.
    String sql =
        "COPY (SELECT global_index, payload_type, payload FROM domain_event_entry "
            + "WHERE global_index <= "
            + head
            + " ORDER BY global_index) TO STDOUT (FORMAT binary)";
    List<Long> gaps = new ArrayList<>();
    long previous = 0;
    try (PGCopyInputStream copy =
            new PGCopyInputStream(connection.unwrap(PGConnection.class), sql);
        DataInputStream in = new DataInputStream(new BufferedInputStream(copy, 1 << 16))) {
      readHeader(in);
      long[] indexes = new long[chunkSize];
      AccountEvent[] events = new AccountEvent[chunkSize];
      int size = 0;
      while (true) {
        short fields = in.readShort();
        if (fields == -1) {
          break;
        }
        if (fields != 3) {
          throw new IOException("COPY row with " + fields + " fields, expected 3");
        }
        long globalIndex = readLong(in);
        String type = new String(readField(in), StandardCharsets.UTF_8);
        byte[] payload = readField(in);
        addGaps(gaps, previous + 1, globalIndex);
        previous = globalIndex;
        AccountEvent event = decode(globalIndex, type, payload);
        if (event != null) {
          indexes[size] = globalIndex;
          events[size] = event;
          size++;
        }
        if (size == chunkSize) {
          if (!hand(new Chunk(indexes, events, size, previous))) {
            return;
          }
          indexes = new long[chunkSize];
          events = new AccountEvent[chunkSize];
          size = 0;
        }
      }
      if (size > 0 && !hand(new Chunk(indexes, events, size, previous))) {
        return;
      }
    }
    addGaps(gaps, previous + 1, head + 1);
    hand(new End(gaps));
  }

  private AccountEvent decode(long globalIndex, String type, byte[] payload) throws IOException {
    ObjectReader reader = readers.computeIfAbsent(type, this::readerFor);
    if (reader == null) {
      return null; // not an account event: nothing the views show
    }
    try {
      AccountEvent event = reader.readValue(payload);
      // The fold looks every event's key up; a String keeps its hash once worked out, so working
      // it out here moves that cost from the folding thread, the busier one, to this one.
      event.keyId().hashCode();
      return event;
    } catch (IOException e) {
      throw new IOException("event " + globalIndex + " (" + type + ") cannot be read", e);
    }
  }

  /** A reader for an account event's type; null for other aggregates' events. */
  private ObjectReader readerFor(String type) {
    if (!type.startsWith(AccountEvent.class.getName() + "$")) {
      return null;
    }
    try {
      return mapper.readerFor(Class.forName(type, false, AccountEvent.class.getClassLoader()));
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(
          "the event store holds " + type + ", unknown to this build", e);
    }
  }

  private void addGaps(List<Long> gaps, long from, long to) {
    for (long missing = Math.max(from, head - maxGapOffset + 1); missing < to; missing++) {
      gaps.add(missing);
    }
  }

  /** Blocks while the queue is full; false when the consumer gave up. */
  private boolean hand(Item item) {
    try {
      while (!out.offer(item, 100, TimeUnit.MILLISECONDS)) {
        if (cancelled.getAsBoolean()) {
          return false;
        }
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void readHeader(DataInputStream in) throws IOException {
    byte[] signature = new byte[SIGNATURE.length];
    in.readFully(signature);
    if (!Arrays.equals(signature, SIGNATURE)) {
      throw new IOException("not a binary COPY stream");
    }
    in.readInt(); // flags: no OIDs
    in.skipNBytes(in.readInt()); // header extension
  }

  private static long readLong(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length != 8) {
      throw new IOException("global_index of " + length + " bytes");
    }
    return in.readLong();
  }

  private static byte[] readField(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0) {
      throw new EOFException("unexpected NULL in domain_event_entry");
    }
    byte[] value = new byte[length];
    in.readFully(value);
    return value;
  }
}
