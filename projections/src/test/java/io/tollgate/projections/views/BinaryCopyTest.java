package io.tollgate.projections.views;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.testing.TestPostgres;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * The binary COPY writes numerics and timestamps in PostgreSQL's wire form by hand: what a real
 * server reads back must be exactly the value, as the same value sent as text would be.
 */
class BinaryCopyTest {

  private static DriverManagerDataSource dataSource;
  private static JdbcTemplate jdbc;

  @BeforeAll
  static void database() {
    TestPostgres.Database database = TestPostgres.newDatabase();
    dataSource =
        new DriverManagerDataSource(database.jdbcUrl(), database.username(), database.password());
    jdbc = new JdbcTemplate(dataSource);
  }

  private record Row(BigDecimal number, Instant at, String text, Long count, Integer status) {}

  @Test
  void numbersTimesAndTextReadBackExactlyAsTheirTextWouldBe() {
    jdbc.execute(
        "CREATE TABLE copied (id BIGINT, number NUMERIC, at TIMESTAMPTZ, text VARCHAR(255), "
            + "count BIGINT, status INTEGER, flag BOOLEAN)");
    jdbc.execute(
        "CREATE TABLE typed (id BIGINT, number NUMERIC, at TIMESTAMPTZ, text VARCHAR(255))");
    SplittableRandom random = new SplittableRandom(11);
    List<Row> rows = new ArrayList<>();
    for (String fixed :
        new String[] {
          "0",
          "0.00",
          "1E+3",
          "10000",
          "9999",
          "0.0000025",
          "-1",
          "-0.0001",
          "123456789.987654321",
          "100000000",
          "0.1",
          "1E-20",
          "-12345678901234567890.12345678901234567890"
        }) {
      rows.add(new Row(new BigDecimal(fixed), Instant.EPOCH, "fixed " + fixed, 0L, 200));
    }
    for (int i = 0; i < 5_000; i++) {
      BigInteger unscaled = new BigInteger(random.nextInt(1, 130), new Random(i));
      BigDecimal number =
          new BigDecimal(
              random.nextBoolean() ? unscaled.negate() : unscaled, random.nextInt(-6, 25));
      Instant at =
          Instant.ofEpochSecond(
              random.nextLong(-2_000_000_000L, 4_000_000_000L),
              switch (i % 4) {
                case 0 -> random.nextInt(1_000_000) * 1_000; // whole microseconds
                case 1 -> random.nextInt(1_000_000) * 1_000 + 500; // exactly half a microsecond
                default -> random.nextInt(1_000_000_000);
              });
      String text = i % 7 == 0 ? "modèle \"ünïcode\" ✓ " + i : "gpt-4o-" + i;
      rows.add(new Row(number, at, text, random.nextLong(), i % 3 == 0 ? null : i));
    }
    try (BinaryCopy copy =
        new BinaryCopy(dataSource, "copied (id, number, at, text, count, status, flag)")) {
      for (int i = 0; i < rows.size(); i++) {
        Row r = rows.get(i);
        copy.row(7)
            .int8(i)
            .numeric(r.number())
            .timestamptz(r.at())
            .text(r.text())
            .int8(r.count())
            .int4(r.status())
            .bool(i % 2 == 0 ? null : i % 3 == 0);
      }
      copy.finish();
    }
    List<Object[]> typed = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      typed.add(new Object[] {i, r.number().toPlainString(), r.at().toString(), r.text()});
    }
    jdbc.batchUpdate("INSERT INTO typed VALUES (?, ?::numeric, ?::timestamptz, ?)", typed);

    assertThat(
            jdbc.queryForObject(
                "SELECT count(*) FROM copied c JOIN typed t USING (id) WHERE c.number::text = "
                    + "t.number::text AND c.number = t.number AND c.text = t.text "
                    + "AND (c.at = t.at OR extract(microseconds FROM t.at) % 1 <> 0 "
                    + "OR c.id % 4 <> 0)",
                Long.class))
        .isEqualTo(rows.size());
    List<String> numbers =
        jdbc.queryForList("SELECT number::text FROM copied ORDER BY id", String.class);
    List<Long> micros =
        jdbc.queryForList(
            "SELECT (extract(epoch FROM at) * 1000000)::bigint FROM copied ORDER BY id",
            Long.class);
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      assertThat(numbers.get(i))
          .as(r.number().toString())
          .isEqualTo(r.number().setScale(Math.max(r.number().scale(), 0)).toPlainString());
      long expected =
          new BigDecimal(r.at().getEpochSecond())
              .movePointRight(6)
              .add(BigDecimal.valueOf(r.at().getNano()).movePointLeft(3))
              .setScale(0, RoundingMode.HALF_EVEN)
              .longValueExact();
      assertThat(micros.get(i)).as(r.at().toString()).isEqualTo(expected);
    }
    assertThat(
            jdbc.queryForList(
                "SELECT count, status, flag FROM copied WHERE id IN (3, 4, 5) ORDER BY id"))
        .containsExactly(
            Map.of("count", 0L, "status", 200, "flag", true),
            nullFlag(rows.get(4)),
            Map.of("count", 0L, "status", 200, "flag", false));
  }

  private static Map<String, Object> nullFlag(Row r) {
    Map<String, Object> row = new HashMap<>();
    row.put("count", r.count());
    row.put("status", r.status());
    row.put("flag", null);
    return row;
  }
}
