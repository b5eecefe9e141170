package io.tollgate.contracts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The gateway's record of one finished call, published to Kafka as the data of a CloudEvents 1.0
 * message and turned into exactly one ledger entry by the ledger.
 *
 * <p>{@code requestId} is the idempotency key: the ledger charges a request id once, however often
 * the message is delivered. {@code keyId} is {@link KeyIds#of(String) the hash} of the caller's
 * key; the raw key never leaves the gateway.
 */
public record RequestCompleted(
    String requestId,
    String keyId,
    String model,
    String endpoint,
    String provider,
    boolean success,
    int httpStatus,
    long promptTokens,
    long completionTokens,
    boolean estimated,
    Instant startedAt,
    Instant completedAt) {

  /** CloudEvents {@code type} attribute of this message. */
  public static final String TYPE = "io.tollgate.request.completed.v1";

  /** Longest request id accepted; ids are stored and indexed, so they are bounded. */
  public static final int MAX_REQUEST_ID_LENGTH = 128;

  /**
   * Every way this message breaks the contract, as sentences naming the field; empty when valid. A
   * consumer dead-letters an invalid message with these reasons instead of charging it.
   */
  public List<String> violations() {
    List<String> problems = new ArrayList<>();
    if (requestId == null || requestId.isBlank()) {
      problems.add("requestId is missing");
    } else if (requestId.length() > MAX_REQUEST_ID_LENGTH) {
      problems.add("requestId is longer than " + MAX_REQUEST_ID_LENGTH + " characters");
    }
    if (keyId == null || !KeyIds.isKeyId(keyId)) {
      problems.add("keyId is not a key id (" + KeyIds.PREFIX + " followed by 64 hex digits)");
    }
    if (model == null || model.isBlank()) {
      problems.add("model is missing");
    }
    if (promptTokens < 0) {
      problems.add("promptTokens is negative: " + promptTokens);
    }
    if (completionTokens < 0) {
      problems.add("completionTokens is negative: " + completionTokens);
    }
    if (httpStatus < 0 || httpStatus > 599) {
      problems.add("httpStatus is not an HTTP status: " + httpStatus);
    }
    if (startedAt == null) {
      problems.add("startedAt is missing");
    }
    if (completedAt == null) {
      problems.add("completedAt is missing");
    } else if (startedAt != null && completedAt.isBefore(startedAt)) {
      problems.add("completedAt " + completedAt + " is before startedAt " + startedAt);
    }
    return problems;
  }
}
