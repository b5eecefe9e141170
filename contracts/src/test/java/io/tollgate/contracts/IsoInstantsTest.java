package io.tollgate.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class IsoInstantsTest {

  /** Seconds from 1970 to 9999, with whole seconds, millis, micros and nanos all drawn. */
  @Provide
  Arbitrary<Instant> instants() {
    Arbitrary<Long> seconds = Arbitraries.longs().between(0, 253_402_300_799L);
    Arbitrary<Integer> nanos =
        Arbitraries.oneOf(
            Arbitraries.just(0),
            Arbitraries.integers().between(0, 999).map(ms -> ms * 1_000_000),
            Arbitraries.integers().between(0, 999_999).map(us -> us * 1_000),
            Arbitraries.integers().between(0, 999_999_999));
    return seconds.flatMap(s -> nanos.map(n -> Instant.ofEpochSecond(s, n)));
  }

  /** Any instant at all, the ends of the years the fast path serves and beyond them included. */
  @Provide
  Arbitrary<Instant> anyInstants() {
    return Arbitraries.oneOf(
        instants(),
        Arbitraries.longs()
            .between(Instant.MIN.getEpochSecond(), Instant.MAX.getEpochSecond())
            .map(Instant::ofEpochSecond),
        Arbitraries.of(
            Instant.parse("0000-01-01T00:00:00Z"),
            Instant.parse("-0001-12-31T23:59:59.999999999Z"),
            Instant.parse("9999-12-31T23:59:59.999999999Z"),
            Instant.parse("+10000-01-01T00:00:00Z"),
            Instant.parse("1969-12-31T23:59:59.000001Z"),
            Instant.EPOCH));
  }

  @Property(tries = 5000)
  void writesWhatInstantToStringWrites(@ForAll("anyInstants") Instant instant) {
    assertThat(IsoInstants.format(instant)).isEqualTo(instant.toString());
  }

  @Property(tries = 5000)
  void readsBackEveryInstantToStringWrites(@ForAll("instants") Instant instant) {
    assertThat(IsoInstants.parse(instant.toString())).isEqualTo(instant);
  }

  @Property(tries = 2000)
  void fractionsOfAnyLengthMeanWhatInstantParseSaysTheyMean(
      @ForAll("instants") Instant instant, @ForAll @IntRange(min = 0, max = 9) int digits) {
    String whole = instant.toString().substring(0, 19);
    String fraction = String.format("%09d", instant.getNano()).substring(0, digits);
    String text = whole + (fraction.isEmpty() ? "" : "." + fraction) + "Z";
    assertThat(IsoInstants.parse(text)).isEqualTo(Instant.parse(text));
  }

  @Test
  void leavesEveryOtherFormToTheFullParser() {
    for (String odd :
        new String[] {
          "2026-11-28T04:17:42+01:00",
          "2026-11-28T04:17:42.Z",
          "2026-11-28 04:17:42Z",
          "2026-11-28T24:00:00Z",
          "2026-11-28T04:17:60Z",
          "2026-02-30T04:17:42Z",
          "2026-13-01T04:17:42Z",
          "2026-11-28T04:17:42.1234567890Z",
          "2026-1a-28T04:17:42Z",
          "+12026-11-28T04:17:42Z"
        }) {
      assertThat(IsoInstants.parse(odd)).as(odd).isNull();
    }
  }
}
