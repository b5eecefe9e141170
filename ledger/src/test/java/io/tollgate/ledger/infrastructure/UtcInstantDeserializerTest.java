package io.tollgate.ledger.infrastructure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class UtcInstantDeserializerTest {

  private final ObjectMapper mapper = new LedgerConfiguration().defaultAxonObjectMapper();

  /**
   * The Axon mapper writes and reads instants through {@code IsoInstants} (property-tested in
   * contracts); here, that both ends are wired and agree, in each fraction length and beyond the
   * years the fast path serves.
   */
  @Test
  void readsBackEveryInstantTheLedgerWritesInInstantToStringsForm() throws Exception {
    for (String text :
        new String[] {
          "2026-11-28T04:17:42Z",
          "2026-11-28T04:17:42.675Z",
          "2026-11-28T04:17:42.675123Z",
          "2026-11-28T04:17:42.675123456Z",
          "1970-01-01T00:00:00Z",
          "9999-12-31T23:59:59.999999999Z",
          "+10000-01-01T00:00:00Z",
          "-0001-12-31T23:59:59Z"
        }) {
      Instant instant = Instant.parse(text);
      String json = mapper.writeValueAsString(new Stamp(instant));
      assertThat(json).as(text).isEqualTo("{\"at\":\"" + text + "\"}");
      assertThat(mapper.readValue(json, Stamp.class).at()).as(text).isEqualTo(instant);
    }
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
