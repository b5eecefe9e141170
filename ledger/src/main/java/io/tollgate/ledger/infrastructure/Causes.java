package io.tollgate.ledger.infrastructure;

import java.util.function.Predicate;

/** The walk down a failure's chain of causes that the ledger's retry decisions share. */
public final class Causes {

  private Causes() {}

  /**
   * Whether {@code failure} or any of its causes passes {@code test}. A cause that names itself as
   * its own cause ends the walk.
   */
  public static boolean any(Throwable failure, Predicate<Throwable> test) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (test.test(cause)) {
        return true;
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return false;
  }
}
