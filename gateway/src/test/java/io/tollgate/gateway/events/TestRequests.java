package io.tollgate.gateway.events;

import io.tollgate.contracts.KeyIds;
import io.tollgate.contracts.RequestCompleted;
import java.time.Instant;

/** Finished calls for tests: a successful chat completion of 10 prompt and 20 completion tokens. */
public final class TestRequests {

  private TestRequests() {}

  public static RequestCompleted completed(String requestId, String rawKey) {
    Instant end = Instant.now();
    return new RequestCompleted(
        requestId,
        KeyIds.of(rawKey),
        "gpt-4o",
        "/v1/chat/completions",
        "p",
        true,
        200,
        10,
        20,
        false,
        end.minusMillis(5),
        end);
  }
}
