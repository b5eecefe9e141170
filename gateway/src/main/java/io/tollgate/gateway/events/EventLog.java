package io.tollgate.gateway.events;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every finished call's event, written into a memory-mapped ring of slots when the call ends and
 * freed once Kafka has confirmed it (or the outbox journal holds it). Between the two it is in the
 * gateway's hand-off queue and the producer's buffer, which die with the process; the ring's pages
 * belong to the kernel's page cache and outlive it. So a gateway that is killed, runs out of memory
 * or crashes leaves its unconfirmed events in the file, and the next start hands them to the outbox
 * journal, which sends them: the calls are charged, once, as the ledger charges a request id once.
 *
 * <p>What it does not survive is the machine losing power before the kernel wrote the pages back
 * (within 30 s by Linux's defaults); forcing each event to disk would cost a disk flush per call,
 * which is what the journal does only while Kafka is away.
 *
 * <p>A write costs a copy into memory and a checksum, no system call, and claims its slot with a
 * compare-and-set, so the event loops write side by side without a lock. A slot is {@value
 * #SLOT_BYTES} bytes: a state, the message's length and CRC-32C, and the message. An event that
 * does not fit one slot, or finds the next slot still waiting for Kafka (the ring full), is not
 * written; {@link #write} says so and the outbox puts the event in its journal instead.
 *
 * <p>One process at a time: the file is locked while open.
 */
public final class EventLog implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EventLog.class);

  public static final int SLOT_BYTES = 1024;

  /** State (int), length (int), CRC-32C (int), and one int unused. */
  private static final int HEADER_BYTES = 16;

  public static final int MAX_MESSAGE_BYTES = SLOT_BYTES - HEADER_BYTES;

  private static final int FREE = 0;
  private static final int HELD = 1;

  /** Claimed and being written: a slot found in this state was cut off by a crash mid-write. */
  private static final int WRITING = 2;

  private static final VarHandle STATE =
      MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

  private final Path file;
  private final int slots;
  private final FileChannel channel;
  private final FileLock lock;
  private MappedByteBuffer ring;
  private List<byte[]> leftOver;
  private final AtomicLong next = new AtomicLong();

  /**
   * Opens the ring in {@code file}, creating it with {@code slots} slots. Whatever an earlier run
   * left held in it is read into {@link #leftOver}, and stays in the file until {@link
   * #forgetLeftOver}.
   */
  public EventLog(Path file, int slots) {
    if (slots < 1) {
      throw new IllegalArgumentException("the event log needs at least one slot, not " + slots);
    }
    this.file = file;
    this.slots = slots;
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      this.channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      this.lock = lockOf(channel, file);
      long size = channel.size() / SLOT_BYTES * SLOT_BYTES;
      if (size == 0) {
        this.leftOver = List.of();
        this.ring = mapNew();
      } else {
        MappedByteBuffer earlier = channel.map(FileChannel.MapMode.READ_WRITE, 0, size);
        this.leftOver = read(earlier, (int) (size / SLOT_BYTES));
        this.ring = size == (long) slots * SLOT_BYTES ? earlier : null;
        if (leftOver.isEmpty() && ring == null) {
          forgetLeftOver();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the event log " + file, e);
    }
  }

  /**
   * Writes the empty file whole before mapping it: a sparse file would have the file system
   * allocate its blocks in the page faults of the first lap, on the event loops.
   */
  private MappedByteBuffer mapNew() throws IOException {
    ByteBuffer zeros = ByteBuffer.allocate(1 << 16);
    for (long at = 0; at < (long) slots * SLOT_BYTES; at += zeros.capacity()) {
      zeros.clear().limit((int) Math.min(zeros.capacity(), (long) slots * SLOT_BYTES - at));
      while (zeros.hasRemaining()) {
        channel.write(zeros, at + zeros.position());
      }
    }
    return channel.map(FileChannel.MapMode.READ_WRITE, 0, (long) slots * SLOT_BYTES);
  }

  private static FileLock lockOf(FileChannel channel, Path file) throws IOException {
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException inThisProcess) {
      lock = null;
    }
    if (lock == null) {
      channel.close();
      throw new IllegalStateException(
          "the event log "
              + file
              + " is in use by another gateway; each gateway needs a data directory of its own");
    }
    return lock;
  }

  /**
   * The held slots' messages, in slot order; slots cut off mid-write or damaged are counted out.
   */
  private List<byte[]> read(MappedByteBuffer earlier, int count) {
    List<byte[]> messages = new ArrayList<>();
    int damaged = 0;
    for (int slot = 0; slot < count; slot++) {
      int at = slot * SLOT_BYTES;
      int state = (int) STATE.getVolatile(earlier, at);
      if (state == FREE) {
        continue;
      }
      int length = earlier.getInt(at + 4);
      if (state != HELD || length < 0 || length > MAX_MESSAGE_BYTES) {
        damaged++;
        continue;
      }
      byte[] message = new byte[length];
      earlier.get(at + HEADER_BYTES, message);
      if (crc(message) != earlier.getInt(at + 8)) {
        damaged++;
        continue;
      }
      messages.add(message);
    }
    if (damaged > 0) {
      log.warn(
          "{} slots of the event log {} were cut off mid-write or damaged and are skipped",
          damaged,
          file);
    }
    return messages;
  }

  /** The events an earlier run wrote and Kafka never confirmed, to be sent again. */
  public List<byte[]> leftOver() {
    return leftOver;
  }

  /**
   * Frees the earlier run's slots, once their events are safe elsewhere (the journal), and sizes
   * the file to this run's slots. Writes wait for this.
   */
  public void forgetLeftOver() {
    try {
      if (ring == null) {
        channel.truncate(0);
        ring = mapNew();
      } else {
        for (int slot = 0; slot < slots; slot++) {
          STATE.setVolatile(ring, slot * SLOT_BYTES, FREE);
        }
        ring.force();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reset the event log " + file, e);
    }
    leftOver = List.of();
  }

  /**
   * Writes {@code message} into the next slot.
   *
   * @return the slot, for {@link #free}; -1 when the message was not written because it is longer
   *     than {@link #MAX_MESSAGE_BYTES} or the next slot still waits for Kafka
   */
  public int write(byte[] message) {
    if (message.length > MAX_MESSAGE_BYTES || !leftOver.isEmpty()) {
      return -1;
    }
    int slot = (int) Long.remainderUnsigned(next.getAndIncrement(), slots);
    int at = slot * SLOT_BYTES;
    if (!STATE.compareAndSet(ring, at, FREE, WRITING)) {
      return -1;
    }
    ring.putInt(at + 4, message.length);
    ring.putInt(at + 8, crc(message));
    ring.put(at + HEADER_BYTES, message);
    STATE.setRelease(ring, at, HELD);
    return slot;
  }

  /** Frees {@code slot}: its event is confirmed by Kafka or held by the journal. */
  public void free(int slot) {
    if (slot < 0) {
      return;
    }
    STATE.setRelease(ring, slot * SLOT_BYTES, FREE);
  }

  /**
   * Slots written (or being written) and not yet freed, counted from the slots themselves: for the
   * gauge, read at each scrape, so the event loops keep no counter of their own.
   */
  public int held() {
    MappedByteBuffer slotsNow = ring;
    if (slotsNow == null) {
      return 0;
    }
    int held = 0;
    for (int slot = 0; slot < slots; slot++) {
      if ((int) STATE.getAcquire(slotsNow, slot * SLOT_BYTES) != FREE) {
        held++;
      }
    }
    return held;
  }

  private static int crc(byte[] message) {
    CRC32C crc = new CRC32C();
    crc.update(message);
    return (int) crc.getValue();
  }

  /** Leaves held slots held: their events were not confirmed, and the next start sends them. */
  @Override
  public void close() {
    try {
      if (ring != null) {
        ring.force();
      }
      lock.release();
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close the event log " + file, e);
    }
  }
}
