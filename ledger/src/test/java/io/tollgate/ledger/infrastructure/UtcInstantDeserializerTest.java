package io.tollgate.ledger.infrastructure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import java.time.Instant;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class UtcInstantDeserializerTest {

  private final ObjectMapper mapper = new LedgerConfiguration().defaultAxonObjectMapper();

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

  @Property(tries = 2000)
  void readsBackEveryInstantTheLedgerWrites(@ForAll("instants") Instant instant) throws Exception {
    String json = mapper.writeValueAsString(new Stamp(instant));
    assertThat(mapper.readValue(json, Stamp.class).at()).isEqualTo(instant);
  }

  @Test
  void leavesEveryOtherFormToJacksonsOwnParser() throws Exception {
    assertThat(mapper.readValue("{\"at\":\"2026-11-28T04:17:42+01:00\"}", Stamp.class).at())
        .isEqualTo(Instant.parse("2026-11-28T03:17:42Z"));
    assertThat(mapper.readValue("{\"at\":1764303462.5}", Stamp.class).at())
        .isEqualTo(Instant.ofEpochSecond(1_764_303_462L, 500_000_000));
  }

  @Test
  void aMalformedTimeIsStillAnErrorNamingIt() {
    assertThatThrownBy(() -> mapper.readValue("{\"at\":\"2026-02-30T04:17:42Z\"}", Stamp.class))
        .isInstanceOf(InvalidFormatException.class)
        .hasMessageContaining("2026-02-30T04:17:42Z");
  }

  record Stamp(Instant at) {}
}
