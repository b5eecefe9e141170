package io.tollgate.ledger.account;

import java.util.HashSet;
import java.util.Set;

/** The registry's contract without a database, for fixtures and property tests. */
final class InMemoryRequestIds implements RequestIdRegistry {

  private final Set<String> claimed = new HashSet<>();

  @Override
  public boolean claim(String keyId, String requestId) {
    return claimed.add(keyId + "\n" + requestId);
  }
}
