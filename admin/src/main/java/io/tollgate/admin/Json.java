package io.tollgate.admin;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** How amounts and times are written in the admin API's JSON. */
final class Json {

  private Json() {}

  /**
   * An exact amount without trailing zeros (NUMERIC sums carry the widest scale of their terms).
   * The mapper writes BigDecimals in plain notation, so this never becomes {@code 7.2E-4}.
   */
  static BigDecimal amount(BigDecimal value) {
    if (value == null) {
      return null;
    }
    BigDecimal stripped = value.stripTrailingZeros();
    return stripped.scale() < 0 ? stripped.setScale(0) : stripped;
  }

  static String time(Instant instant) {
    return instant == null
        ? null
        : DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(instant.atOffset(ZoneOffset.UTC));
  }
}
