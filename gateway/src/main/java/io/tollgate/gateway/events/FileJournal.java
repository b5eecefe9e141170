package io.tollgate.gateway.events;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only file of messages that could not be handed to Kafka, forced to disk on each append
 * so a crash after the append loses nothing. Bounded in bytes: once full, {@link #hasRoom} says so
 * and the gateway stops admitting calls rather than serve calls it could not bill. Calls already
 * running when it filled still append: their events are owed, so the bound is overshot by at most
 * the calls in flight. An append the disk refuses (full, or failing) also stops admission, until an
 * append succeeds.
 *
 * <p>Each line is one message, Base64, so a line break inside a message cannot split it. To drain,
 * the journal is moved aside whole ({@link #takeAll}); appends go on into a new file meanwhile, and
 * a drain that fails puts its messages back.
 *
 * <p>A message is in the journal once its line, newline included, is on disk. An append cut short
 * (the disk full, the process killed in the write) leaves a line without its newline: an append
 * that fails takes its bytes back off, and opening the journal drops an unfinished last line with a
 * warning, so the next message never runs on into it. Any other line that is not Base64 stops the
 * start with its file and line number: something other than the gateway wrote there.
 */
public final class FileJournal {

  private static final Logger log = LoggerFactory.getLogger(FileJournal.class);

  private final Path file;
  private final long maxBytes;

  /** Written under the lock, read without it by {@link #hasRoom} on every call's admission. */
  private volatile long bytes;

  /** Whether the last append failed: the disk refuses, so there is no room until one succeeds. */
  private volatile boolean refusing;

  private long messages;
  private long draining;

  public FileJournal(Path directory, long maxBytes) {
    try {
      Files.createDirectories(directory);
      this.file = directory.resolve("outbox.journal");
      this.maxBytes = maxBytes;
      Path draining = draining();
      dropUnfinishedLine(draining);
      dropUnfinishedLine(file);
      if (Files.exists(draining)) {
        // A drain was cut short by a stop: its messages were not all confirmed, so they wait again.
        append(readLines(draining));
        Files.delete(draining);
      }
      if (Files.exists(file)) {
        this.bytes = Files.size(file);
        this.messages = readLines(file).size();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the outbox journal in " + directory, e);
    }
  }

  /** Appends the messages and forces them to disk once. */
  synchronized void append(List<byte[]> batch) {
    StringBuilder lines = new StringBuilder();
    for (byte[] message : batch) {
      lines.append(Base64.getEncoder().encodeToString(message)).append('\n');
    }
    byte[] encoded = lines.toString().getBytes(StandardCharsets.US_ASCII);
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      long end = channel.size();
      try {
        ByteBuffer buffer = ByteBuffer.wrap(encoded);
        while (buffer.hasRemaining()) {
          channel.write(buffer, end + buffer.position());
        }
        channel.force(false);
      } catch (IOException e) {
        try {
          channel.truncate(end);
        } catch (IOException cannotTakeBack) {
          e.addSuppressed(cannotTakeBack);
        }
        throw e;
      }
      if (end == 0) {
        // A new file's name is in its directory only once the directory is on disk too.
        forceDirectory();
      }
    } catch (IOException e) {
      refusing = true;
      throw new UncheckedIOException("cannot append to the outbox journal " + file, e);
    }
    refusing = false;
    bytes += encoded.length;
    messages += batch.size();
  }

  /**
   * Whether another event can be kept: the journal is under its bound and its disk takes writes.
   */
  public boolean hasRoom() {
    return !refusing && bytes < maxBytes;
  }

  /** Messages not yet confirmed by Kafka, those of a drain under way included. */
  public synchronized long messages() {
    return messages + draining;
  }

  /**
   * Moves every waiting message out of the journal into a draining file and returns them; {@link
   * #putBack} ends the drain.
   */
  public synchronized List<byte[]> takeAll() {
    Path aside = draining();
    boolean earlierDrain = Files.exists(aside);
    if (messages == 0 && !earlierDrain) {
      return List.of();
    }
    try {
      if (!earlierDrain) {
        Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
      } else if (Files.exists(file)) {
        // An earlier drain could not put its messages back, so they are still in the draining
        // file: the messages appended since join them there (forced before this file goes; a
        // crash between the two sends some twice, which is harmless), rather than replace them.
        try (FileChannel out = FileChannel.open(aside, StandardOpenOption.WRITE);
            FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
          long end = out.size();
          long size = in.size();
          for (long done = 0; done < size; ) {
            done += in.transferTo(done, size - done, out.position(end + done));
          }
          out.force(false);
        }
        Files.delete(file);
      }
      List<byte[]> taken = readLines(aside);
      bytes = 0;
      messages = 0;
      draining = taken.size();
      return taken;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move the outbox journal aside", e);
    }
  }

  private void drained() {
    try {
      Files.deleteIfExists(draining());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete the drained journal", e);
    }
  }

  /**
   * Ends a drain: the messages Kafka did not confirm wait again, the rest are forgotten. Should
   * they not go back (the disk), the drain's file keeps them all and the next {@link #takeAll}
   * takes them again.
   */
  public synchronized void putBack(List<byte[]> unsent) {
    if (!unsent.isEmpty()) {
      append(unsent);
    }
    draining = 0;
    drained();
  }

  private Path draining() {
    return file.resolveSibling(file.getFileName() + ".draining");
  }

  private void forceDirectory() throws IOException {
    try (FileChannel directory = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      directory.force(true);
    }
  }

  /** Cuts off a last line that has no newline: an append that never finished. */
  private static void dropUnfinishedLine(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (FileChannel channel =
        FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = channel.size();
      long end = size;
      ByteBuffer one = ByteBuffer.allocate(1);
      while (end > 0) {
        one.clear();
        channel.read(one, end - 1);
        if (one.get(0) == '\n') {
          break;
        }
        end--;
      }
      if (end < size) {
        channel.truncate(end);
        channel.force(false);
        log.warn(
            "the outbox journal {} ended in {} bytes of a message whose append never finished;"
                + " they are dropped (that call's event was not yet in the journal)",
            path,
            size - end);
      }
    }
  }

  private static List<byte[]> readLines(Path path) throws IOException {
    List<byte[]> result = new ArrayList<>();
    // Read as Latin-1 so that any byte reads as a character, and a stray one fails as Base64 below.
    List<String> lines = Files.readAllLines(path, StandardCharsets.ISO_8859_1);
    for (int n = 0; n < lines.size(); n++) {
      String line = lines.get(n).strip();
      if (line.isEmpty()) {
        continue;
      }
      try {
        result.add(Base64.getDecoder().decode(line));
      } catch (IllegalArgumentException e) {
        throw new IOException(
            "line " + (n + 1) + " of " + path + " is not a journaled message: " + e.getMessage());
      }
    }
    return result;
  }
}
