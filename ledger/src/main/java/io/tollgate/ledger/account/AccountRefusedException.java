package io.tollgate.ledger.account;

/**
 * A business refusal an operator should see, such as a top-up of an unlimited balance. The message
 * names the key, the value and the rule. Programming errors are never reported this way.
 */
public class AccountRefusedException extends RuntimeException {

  private final Reason reason;

  public enum Reason {
    UNLIMITED_BALANCE,
    INVALID_AMOUNT,
    DUPLICATE_CORRECTION
  }

  public AccountRefusedException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
