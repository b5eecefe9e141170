package io.tollgate.projections.views;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The history's COPY writes times by hand; PostgreSQL must read back the same instant. */
class CsvTimesTest {

  @Test
  void everyInstantIsWrittenAsTheIsoTextOfTheSameInstant() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 100_000; i++) {
      long seconds = random.nextLong(-30_610_224_000L, 253_402_300_800L); // years 1000 to 9999
      int nanos =
          switch (i % 4) {
            case 0 -> 0;
            case 1 -> random.nextInt(1000) * 1_000_000;
            case 2 -> random.nextInt(1_000_000) * 1_000;
            default -> random.nextInt(1_000_000_000);
          };
      Instant instant = Instant.ofEpochSecond(seconds, nanos);
      StringBuilder text = new StringBuilder();
      JdbcViewStore.appendInstant(text, instant);
      assertThat(Instant.parse(text)).as(text.toString()).isEqualTo(instant);
      assertThat(text).hasSize(nanos == 0 ? 20 : 30);
    }
  }

  @Test
  void yearsBeyondFourDigitsUseTheGeneralForm() {
    Instant far = Instant.parse("+12026-01-01T00:00:00Z");
    StringBuilder text = new StringBuilder();
    JdbcViewStore.appendInstant(text, far);
    assertThat(text.toString()).isEqualTo(far.toString());
  }
}
