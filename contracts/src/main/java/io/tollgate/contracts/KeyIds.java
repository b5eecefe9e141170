package io.tollgate.contracts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Derives the public identifier of an API key. Events, logs and the event store carry this id,
 * never the key: a SHA-256 cannot be turned back into the key, yet the gateway and the ledger
 * derive the same id from the same key without sharing any state.
 */
public final class KeyIds {

  public static final String PREFIX = "key_";

  private static final int DIGEST_HEX_DIGITS = 64;

  private KeyIds() {}

  public static String of(String apiKey) {
    if (apiKey == null || apiKey.isEmpty()) {
      throw new IllegalArgumentException("an API key is needed to derive a key id");
    }
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(apiKey.getBytes(StandardCharsets.UTF_8));
      return PREFIX + HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime provides SHA-256", e);
    }
  }

  /**
   * {@link #PREFIX} followed by 64 lowercase hex digits. Checked by hand: the ledger checks every
   * message it charges, and a regular expression cost 4 % of its intake thread.
   */
  public static boolean isKeyId(String candidate) {
    if (candidate == null
        || candidate.length() != PREFIX.length() + DIGEST_HEX_DIGITS
        || !candidate.startsWith(PREFIX)) {
      return false;
    }
    for (int i = PREFIX.length(); i < candidate.length(); i++) {
      char c = candidate.charAt(i);
      if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) {
        return false;
      }
    }
    return true;
  }

  /**
   * The form uni-api shows a key in usage listings: its first 7 and last 4 characters joined by
   * {@code ...}. A key too short to hide anything is shown whole.
   */
  public static String displayPrefix(String apiKey) {
    if (apiKey.length() <= 11) {
      return apiKey;
    }
    return apiKey.substring(0, 7) + "..." + apiKey.substring(apiKey.length() - 4);
  }
}
