package io.tollgate.ledger.pricing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tollgate.config.ApiConfigParser;
import io.tollgate.config.BillingMode;
import io.tollgate.config.TokenPrice;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PriceBookTest {

  private static final PriceBook BEHAVIOUR = book(Path.of("src/test/resources/behaviour-api.yaml"));

  private static PriceBook book(Path path) {
    return new PriceBook(ApiConfigParser.parse(path).prices());
  }

  private static PriceBook book(String yaml) {
    return new PriceBook(
        ApiConfigParser.parse(Path.of("test.yaml"), new StringReader(yaml)).prices());
  }

  /** Every worked example of BEHAVIOUR.md section 4. */
  @ParameterizedTest(name = "{0} {1} {2}/{3} -> {4} USD + {5} requests ({6})")
  @CsvSource({
    "token,  gpt-4o,             1000,    500,     0.002,   0, token",
    "token,  gpt-4o-mini,        1000,    1000,    0.003,   0, token",
    "token,  some-unknown-model, 1000000, 1000000, 3,       0, token",
    "count,  gpt-4o,             123,     456,     0.01,    1, count",
    "count,  claude-3-5-sonnet,  123,     456,     0.005,   1, count",
    "count,  gpt-4-turbo,        123,     456,     0.01,    1, count",
    "count,  llama-3-70b,        123,     456,     0.001,   1, count",
    "hybrid, gpt-4o,             123,     456,     0.01,    1, count",
    "hybrid, claude-3-5-sonnet,  2000,    1000,    0.00072, 0, token",
  })
  void workedExamplesOfTheSpecification(
      String mode,
      String model,
      long prompt,
      long completion,
      String usd,
      long requests,
      String type) {
    Quote quote = BEHAVIOUR.quote(BillingMode.parse(mode).orElseThrow(), model, prompt, completion);
    assertThat(quote.usd()).isEqualByComparingTo(usd);
    assertThat(quote.requests()).isEqualTo(requests);
    assertThat(quote.costType().wireName()).isEqualTo(type);
    assertThat(quote.priceVersion()).isEqualTo(BEHAVIOUR.version());
  }

  @Test
  void fiveCountRequestsOfGpt4oCostFiveCentsAsInTheGuide() {
    BigDecimal total = BigDecimal.ZERO;
    for (int i = 0; i < 5; i++) {
      total = total.add(BEHAVIOUR.quote(BillingMode.COUNT, "gpt-4o", 10, 10).usd());
    }
    assertThat(total).isEqualByComparingTo("0.05");
  }

  @Test
  void longestPrefixBeatsFileOrder() {
    PriceBook prices =
        book(
            """
            preferences:
              model_price:
                gpt-4: 10,20
                gpt-4o: 1,2
            """);
    assertThat(prices.tokenPrice("gpt-4o-2024-08-06")).isEqualTo(tokens("1", "2"));
    assertThat(prices.tokenPrice("gpt-4-turbo")).isEqualTo(tokens("10", "20"));
    PriceBook reversed =
        book(
            """
            preferences:
              model_price:
                gpt-4o: 1,2
                gpt-4: 10,20
            """);
    assertThat(reversed.tokenPrice("gpt-4o-2024-08-06")).isEqualTo(tokens("1", "2"));
    assertThat(reversed.version()).isEqualTo(prices.version());
  }

  @Test
  void defaultNeverMatchesByPrefix() {
    PriceBook prices =
        book(
            """
            preferences:
              count_billing:
                enabled: true
                model_count_prices: {default: 0.002}
              model_price:
                default: 5,6
            """);
    assertThat(prices.tokenPrice("default-model")).isEqualTo(tokens("5", "6"));
    assertThat(prices.explicitCountPrice("default-model")).isEmpty();
    assertThat(prices.countPrice("default-model")).isEqualByComparingTo("0.002");
  }

  @Test
  void bareNumberIsACountPriceAndQuotedStringATokenPrice() {
    PriceBook prices =
        book(
            """
            preferences:
              count_billing: {enabled: true}
              model_price:
                bare: 0.5
                quoted: "0.5"
            """);
    assertThat(prices.explicitCountPrice("bare")).contains(new BigDecimal("0.5"));
    assertThat(prices.tokenPrice("bare")).isEqualTo(TokenPrice.BUILT_IN_DEFAULT);
    assertThat(prices.explicitCountPrice("quoted")).isEmpty();
    assertThat(prices.tokenPrice("quoted")).isEqualTo(tokens("0.5", "0.5"));
  }

  @Test
  void mapWithOnlyCountPriceFallsBackToDefaultTokenPrice() {
    PriceBook prices =
        book(
            """
            preferences:
              count_billing: {enabled: true}
              model_price:
                m: {count_price: 0.02}
                default: 3,4
            """);
    assertThat(prices.tokenPrice("m-large")).isEqualTo(tokens("3", "4"));
    assertThat(prices.quote(BillingMode.HYBRID, "m-large", 1, 1).usd())
        .isEqualByComparingTo("0.02");
    assertThat(prices.quote(BillingMode.TOKEN, "m-large", 1_000_000, 0).usd())
        .isEqualByComparingTo("3");
  }

  @Test
  void disabledCountBillingChargesCountAndHybridKeysByTokens() {
    PriceBook prices =
        book(
            """
            preferences:
              count_billing: {enabled: false, default_count_price: 0.5}
              model_price:
                gpt-4o: {token_price: "1,2", count_price: 0.01}
            """);
    for (BillingMode mode : BillingMode.values()) {
      Quote quote = prices.quote(mode, "gpt-4o", 1000, 500);
      assertThat(quote.costType()).isEqualTo(CostType.TOKEN);
      assertThat(quote.usd()).isEqualByComparingTo("0.002");
      assertThat(quote.requests()).isZero();
    }
  }

  @Test
  void modelMatchingNothingAnywhereUsesTheBuiltInPrices() {
    PriceBook prices = book("providers: []");
    assertThat(prices.tokenPrice("anything")).isEqualTo(TokenPrice.BUILT_IN_DEFAULT);
    assertThat(prices.countPrice("anything")).isEqualByComparingTo("0.001");
    assertThat(prices.explicitCountPrice("anything")).isEmpty();
    assertThat(prices.quote(BillingMode.TOKEN, "anything", 1_000_000, 1_000_000).usd())
        .isEqualByComparingTo("3");
  }

  @Test
  void countPriceFallbacksApplyInTheirOrder() {
    assertThat(
            book("preferences: {count_billing: {enabled: true, default_count_price: 0.07}}")
                .countPrice("x"))
        .isEqualByComparingTo("0.07");
    assertThat(
            book("preferences: {count_billing: {enabled: true, default_count_price: 0.07, model_count_prices: {default: 0.03}}}")
                .countPrice("x"))
        .isEqualByComparingTo("0.03");
    assertThat(
            book("preferences: {count_billing: {enabled: true, default_count_price: 0.07, model_count_prices: {x: 0.2, default: 0.03}}}")
                .countPrice("x-1"))
        .isEqualByComparingTo("0.2");
  }

  @Test
  void tokenChargesAreExactToTheLastDecimal() {
    Quote quote = BEHAVIOUR.quote(BillingMode.TOKEN, "claude-3-5-sonnet", 1, 1);
    assertThat(quote.usd()).isEqualByComparingTo("0.0000006");
    assertThat(quote.tokenPrice()).isEqualTo(tokens("0.12", "0.48"));
  }

  @Test
  void differentPricesHaveDifferentVersions() {
    assertThat(book("preferences: {model_price: {a: \"1,2\"}}").version())
        .isNotEqualTo(book("preferences: {model_price: {a: \"1,3\"}}").version());
  }

  private static TokenPrice tokens(String prompt, String completion) {
    return new TokenPrice(new BigDecimal(prompt), new BigDecimal(completion));
  }
}
