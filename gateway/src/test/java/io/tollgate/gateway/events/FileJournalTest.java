package io.tollgate.gateway.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tollgate.contracts.CloudEventCodec;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal's file as a crash or a full disk can leave it. */
class FileJournalTest {

  @TempDir Path directory;

  private static byte[] event(int n) {
    return CloudEventCodec.encode(TestRequests.completed("req-" + n, "sk-" + n), "/test");
  }

  private static List<String> requestIds(List<byte[]> messages) {
    return messages.stream()
        .map(message -> CloudEventCodec.decodeRequestCompleted(message).requestId())
        .toList();
  }

  private Path file() {
    return directory.resolve("outbox.journal");
  }

  @Test
  void anAppendCutShortIsDroppedAndTheNextMessageDoesNotRunOnIntoIt() throws Exception {
    new FileJournal(directory, 1 << 20).append(List.of(event(1), event(2)));
    // What a process killed in its third append leaves: part of a line, no newline.
    Files.write(
        file(),
        "eyJzcGVjdmVyc2lvbi".getBytes(StandardCharsets.US_ASCII),
        StandardOpenOption.APPEND);

    FileJournal reopened = new FileJournal(directory, 1 << 20);
    assertThat(reopened.messages()).isEqualTo(2);
    reopened.append(List.of(event(3)));

    FileJournal again = new FileJournal(directory, 1 << 20);
    assertThat(again.messages()).isEqualTo(3);
    assertThat(requestIds(again.takeAll())).containsExactly("req-1", "req-2", "req-3");
  }

  @Test
  void aDrainCutShortByAStopPutsItsMessagesBack() throws Exception {
    FileJournal journal = new FileJournal(directory, 1 << 20);
    journal.append(List.of(event(1), event(2)));
    assertThat(requestIds(journal.takeAll())).containsExactly("req-1", "req-2");
    journal.append(List.of(event(3)));
    // The process stops here: the drain never confirmed its messages.

    FileJournal reopened = new FileJournal(directory, 1 << 20);
    assertThat(reopened.messages()).isEqualTo(3);
    assertThat(requestIds(reopened.takeAll())).containsExactlyInAnyOrder("req-1", "req-2", "req-3");
    reopened.putBack(List.of());
    assertThat(new FileJournal(directory, 1 << 20).messages()).isZero();
  }

  @Test
  void aLineSomethingElseWroteStopsTheStartWithItsLineNumber() throws Exception {
    new FileJournal(directory, 1 << 20).append(List.of(event(1)));
    Files.write(
        file(),
        "not base64 at all!\n".getBytes(StandardCharsets.ISO_8859_1),
        StandardOpenOption.APPEND);
    String before = Files.readString(file(), StandardCharsets.ISO_8859_1);

    assertThatThrownBy(() -> new FileJournal(directory, 1 << 20))
        .isInstanceOf(UncheckedIOException.class)
        .hasStackTraceContaining("line 2 of " + file())
        .hasStackTraceContaining("is not a journaled message");
    assertThat(Files.readString(file(), StandardCharsets.ISO_8859_1)).isEqualTo(before);
  }

  /**
   * A put-back that fails (here the journal's name is taken by a directory; on a server, a full
   * disk) leaves the drain's messages in its file; the next drain takes them again, with the ones
   * appended since, instead of moving the new file over them.
   */
  @Test
  void aPutBackThatFailsLeavesItsMessagesForTheNextDrain() throws Exception {
    FileJournal journal = new FileJournal(directory, 1 << 20);
    journal.append(List.of(event(1), event(2)));
    assertThat(requestIds(journal.takeAll())).containsExactly("req-1", "req-2");
    Files.createDirectory(file());
    assertThatThrownBy(() -> journal.putBack(List.of(event(2))))
        .isInstanceOf(UncheckedIOException.class);
    assertThat(journal.messages()).isEqualTo(2);

    Files.delete(file());
    journal.append(List.of(event(3)));
    assertThat(journal.messages()).isEqualTo(3);
    assertThat(requestIds(journal.takeAll())).containsExactly("req-1", "req-2", "req-3");
    journal.putBack(List.of(event(3)));
    assertThat(journal.messages()).isEqualTo(1);
    assertThat(requestIds(new FileJournal(directory, 1 << 20).takeAll())).containsExactly("req-3");
  }
}
