package io.tollgate.gateway.events;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventLogTest {

  @TempDir Path dir;

  private Path ring() {
    return dir.resolve("events.ring");
  }

  private static byte[] message(String text) {
    return text.getBytes(UTF_8);
  }

  private static List<String> texts(List<byte[]> messages) {
    return messages.stream().map(bytes -> new String(bytes, UTF_8)).toList();
  }

  @Test
  void whatWasWrittenAndNotFreedIsThereForTheNextRun() {
    try (EventLog log = new EventLog(ring(), 16)) {
      assertThat(log.leftOver()).isEmpty();
      int first = log.write(message("one"));
      log.write(message("two"));
      int third = log.write(message("three"));
      log.write(message("four"));
      log.free(first);
      log.free(third);
      assertThat(log.held()).isEqualTo(2);
    }
    try (EventLog next = new EventLog(ring(), 16)) {
      assertThat(texts(next.leftOver())).containsExactly("two", "four");
      // Nothing is written until the left-over events are safe elsewhere.
      assertThat(next.write(message("five"))).isEqualTo(-1);
      next.forgetLeftOver();
      assertThat(next.write(message("five"))).isNotNegative();
    }
    try (EventLog after = new EventLog(ring(), 16)) {
      assertThat(texts(after.leftOver())).containsExactly("five");
    }
  }

  @Test
  void aFullRingAndAnOversizedMessageAreRefusedAndNothingIsOverwritten() {
    try (EventLog log = new EventLog(ring(), 3)) {
      int a = log.write(message("a"));
      log.write(message("b"));
      log.write(message("c"));
      assertThat(log.write(message("d"))).as("every slot waits for Kafka").isEqualTo(-1);
      assertThat(log.write(new byte[EventLog.MAX_MESSAGE_BYTES + 1])).isEqualTo(-1);
      log.free(a);
      // The next ticket lands on b's slot, still held; the one after on a's, now free.
      assertThat(log.write(message("e"))).isEqualTo(-1);
      assertThat(log.write(message("f"))).isEqualTo(-1);
      assertThat(log.write(message("g"))).isEqualTo(a);
      assertThat(log.write(new byte[EventLog.MAX_MESSAGE_BYTES])).isEqualTo(-1);
    }
    try (EventLog next = new EventLog(ring(), 3)) {
      assertThat(texts(next.leftOver())).containsExactly("g", "b", "c");
    }
  }

  @Test
  void slotsCutOffMidWriteOrDamagedAreSkipped() throws Exception {
    try (EventLog log = new EventLog(ring(), 4)) {
      log.write(message("whole"));
      log.write(message("damaged"));
      log.write(message("cut off"));
    }
    try (RandomAccessFile file = new RandomAccessFile(ring().toFile(), "rw")) {
      file.seek(EventLog.SLOT_BYTES + 16);
      file.write('D');
      // The state of a slot claimed and not yet written whole, in the machine's byte order.
      file.seek(2L * EventLog.SLOT_BYTES);
      file.write(java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN ? 2 : 0);
      file.seek(2L * EventLog.SLOT_BYTES + 3);
      file.write(java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN ? 0 : 2);
    }
    try (EventLog next = new EventLog(ring(), 4)) {
      assertThat(texts(next.leftOver())).containsExactly("whole");
    }
  }

  @Test
  void aRingOfAnotherSizeIsReadWholeAndThenResized() throws Exception {
    try (EventLog log = new EventLog(ring(), 8)) {
      for (int i = 0; i < 8; i++) {
        log.write(message("m" + i));
      }
    }
    try (EventLog smaller = new EventLog(ring(), 2)) {
      assertThat(smaller.leftOver()).hasSize(8);
      smaller.forgetLeftOver();
      assertThat(Files.size(ring())).isEqualTo(2L * EventLog.SLOT_BYTES);
      assertThat(smaller.write(message("x"))).isNotNegative();
    }
  }

  @Test
  void oneGatewayAtATime() {
    try (EventLog log = new EventLog(ring(), 4)) {
      assertThatThrownBy(() -> new EventLog(ring(), 4))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(ring().toString())
          .hasMessageContaining("in use by another gateway");
      assertThat(log.write(message("still mine"))).isNotNegative();
    }
  }

  /**
   * Event loops write side by side and free: no slot is handed to two writers at once, and once
   * every slot is freed nothing is left over.
   */
  @Test
  void concurrentWritersNeverShareASlot() throws Exception {
    int writers = 4;
    int each = 20_000;
    try (EventLog log = new EventLog(ring(), 1024)) {
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      CountDownLatch start = new CountDownLatch(1);
      ConcurrentHashMap<Integer, String> owners = new ConcurrentHashMap<>();
      List<Future<Integer>> refused = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        refused.add(
            pool.submit(
                () -> {
                  start.await();
                  int none = 0;
                  List<Integer> mine = new ArrayList<>();
                  for (int i = 0; i < each; i++) {
                    String text = writer + "-" + i;
                    int slot = log.write(message(text));
                    if (slot < 0) {
                      none++;
                    } else {
                      assertThat(owners.putIfAbsent(slot, text)).as("slot %d", slot).isNull();
                      mine.add(slot);
                    }
                    if (mine.size() > 100) {
                      int freed = mine.remove(0);
                      owners.remove(freed);
                      log.free(freed);
                    }
                  }
                  for (int slot : mine) {
                    owners.remove(slot);
                    log.free(slot);
                  }
                  return none;
                }));
      }
      start.countDown();
      for (Future<Integer> writer : refused) {
        assertThat(writer.get()).isLessThan(each);
      }
      pool.shutdown();
      assertThat(log.held()).isZero();
    }
    try (EventLog next = new EventLog(ring(), 1024)) {
      assertThat(next.leftOver()).isEmpty();
    }
  }
}
