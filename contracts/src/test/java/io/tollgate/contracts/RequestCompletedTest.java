package io.tollgate.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class RequestCompletedTest {

  private static final Instant START = Instant.parse("2026-11-01T10:00:00Z");

  @Test
  void wellFormedMessageHasNoViolations() {
    RequestCompleted ok =
        new RequestCompleted(
            "req-1",
            KeyIds.of("sk-a"),
            "gpt-4o",
            "/v1/chat/completions",
            "openai",
            true,
            200,
            10,
            5,
            false,
            START,
            START.plusMillis(300));
    assertThat(ok.violations()).isEmpty();
  }

  @Test
  void everyBrokenFieldIsNamed() {
    RequestCompleted broken =
        new RequestCompleted(
            " ",
            "sk-raw-key",
            "",
            null,
            null,
            true,
            900,
            -1,
            -2,
            false,
            START,
            START.minusSeconds(1));
    assertThat(broken.violations())
        .containsExactly(
            "requestId is missing",
            "keyId is not a key id (key_ followed by 64 hex digits)",
            "model is missing",
            "promptTokens is negative: -1",
            "completionTokens is negative: -2",
            "httpStatus is not an HTTP status: 900",
            "completedAt 2026-11-01T09:59:59Z is before startedAt 2026-11-01T10:00:00Z");
  }
}
