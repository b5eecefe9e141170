package io.tollgate.admin;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/** Parsing of query parameters, each refusal a 400 that names the parameter. */
final class Params {

  /**
   * Largest top-up accepted in one call, USD or requests: beyond it a typo is likelier than a sale.
   */
  static final BigDecimal MAX_AMOUNT = new BigDecimal("1000000000");

  private Params() {}

  static BigDecimal positiveDecimal(String param, String text) {
    if (text == null || text.isBlank()) {
      throw ApiError.badParameter(param, "Parameter '" + param + "' is required.");
    }
    BigDecimal value;
    try {
      value = new BigDecimal(text.trim());
    } catch (NumberFormatException e) {
      throw ApiError.badParameter(
          param, "Parameter '" + param + "' must be a decimal number, got '" + text + "'.");
    }
    if (value.signum() <= 0) {
      throw ApiError.badParameter(
          param, "Parameter '" + param + "' must be greater than 0, got " + text + ".");
    }
    if (value.compareTo(MAX_AMOUNT) > 0) {
      throw ApiError.badParameter(
          param, "Parameter '" + param + "' must be at most " + MAX_AMOUNT + ", got " + text + ".");
    }
    if (value.stripTrailingZeros().scale() > 12) {
      throw ApiError.badParameter(
          param, "Parameter '" + param + "' has more than 12 decimal places: " + text + ".");
    }
    return value;
  }

  static long positiveWhole(String param, String text) {
    BigDecimal value = positiveDecimal(param, text);
    if (value.stripTrailingZeros().scale() > 0) {
      throw ApiError.badParameter(
          param, "Parameter '" + param + "' must be a whole number, got " + text + ".");
    }
    return value.longValueExact();
  }

  static Integer optionalInt(String param, String text, int min, int max) {
    if (text == null || text.isBlank()) {
      return null;
    }
    int value;
    try {
      value = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw ApiError.badParameter(
          param, "Parameter '" + param + "' must be a whole number, got '" + text + "'.");
    }
    if (value < min || value > max) {
      throw ApiError.badParameter(
          param,
          "Parameter '"
              + param
              + "' must be between "
              + min
              + " and "
              + max
              + ", got "
              + value
              + ".");
    }
    return value;
  }

  /**
   * A time as Unix seconds or ISO 8601; without a zone it is UTC. A bare date is the start of that
   * day, or with {@code endOfDay} the start of the next, so that an end date includes its whole
   * day.
   */
  static Instant time(String param, String text, boolean endOfDay) {
    if (text == null || text.isBlank()) {
      return null;
    }
    String t = text.trim();
    try {
      if (t.matches("-?\\d+(\\.\\d+)?")) {
        BigDecimal seconds = new BigDecimal(t);
        if (seconds.signum() < 0 || seconds.compareTo(BigDecimal.valueOf(253402300799L)) > 0) {
          throw ApiError.badParameter(
              param, "Parameter '" + param + "' is out of range: " + text + ".");
        }
        return Instant.ofEpochMilli(seconds.movePointRight(3).longValue());
      }
      if (t.matches("\\d{4}-\\d{2}-\\d{2}")) {
        LocalDate day = LocalDate.parse(t);
        return (endOfDay ? day.plusDays(1) : day).atStartOfDay().toInstant(ZoneOffset.UTC);
      }
      try {
        return OffsetDateTime.parse(t).toInstant();
      } catch (DateTimeParseException noZone) {
        return LocalDateTime.parse(t).toInstant(ZoneOffset.UTC);
      }
    } catch (DateTimeParseException | ArithmeticException e) {
      throw ApiError.badParameter(
          param,
          "Parameter '"
              + param
              + "' must be Unix seconds or an ISO 8601 date or time, got '"
              + text
              + "'.");
    }
  }
}
