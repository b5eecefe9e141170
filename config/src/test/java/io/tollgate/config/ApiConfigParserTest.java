package io.tollgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ApiConfigParserTest {

  private static ApiConfig parse(String yaml) {
    return ApiConfigParser.parse(Path.of("api.yaml"), new StringReader(yaml));
  }

  @Test
  void theShippedSampleParses() {
    ApiConfig config = ApiConfigParser.parse(Path.of("../api.yaml"));
    assertThat(config.findKey("sk-admin-key")).get().matches(ApiKeyEntry::isAdmin);
    ApiKeyEntry count = config.findKey("sk-count-user-key").orElseThrow();
    assertThat(count.preferences().billingMode()).isEqualTo(BillingMode.COUNT);
    assertThat(count.preferences().countCredits()).isEqualTo(1000);
    assertThat(count.preferences().credits()).isEqualByComparingTo("-1");
    assertThat(count.models()).containsExactly("gpt-4o", "claude-3-5-sonnet");
    assertThat(config.findKey("sk-token-user-key").orElseThrow().models()).isNull();
    assertThat(config.prices().countBillingEnabled()).isTrue();
  }

  @Test
  void pricesKeepTheirExactDecimalsAndKind() {
    ApiConfig config =
        parse(
            """
            preferences:
              model_price:
                a: 0.1
                b: "0.1"
                c: 0.12,0.48
                d: {count_price: 0.3}
                e: {token_price: "1,2", count_price: 0.01}
                f: 0.30000000000000000001
            """);
    var prices = config.prices().modelPrices();
    assertThat(prices.get("a")).isEqualTo(new ModelPrice(null, new BigDecimal("0.1")));
    assertThat(prices.get("b").tokenPrice())
        .isEqualTo(new TokenPrice(new BigDecimal("0.1"), new BigDecimal("0.1")));
    assertThat(prices.get("b").countPrice()).isNull();
    assertThat(prices.get("c").tokenPrice())
        .isEqualTo(new TokenPrice(new BigDecimal("0.12"), new BigDecimal("0.48")));
    assertThat(prices.get("d")).isEqualTo(new ModelPrice(null, new BigDecimal("0.3")));
    assertThat(prices.get("e").countPrice()).isEqualTo(new BigDecimal("0.01"));
    assertThat(prices.get("f").countPrice()).isEqualTo(new BigDecimal("0.30000000000000000001"));
  }

  @Test
  void quotedAndUnquotedTimestampsBothKeepTheirOffset() {
    ApiConfig config =
        parse(
            """
            api_keys:
              - api: sk-one
                preferences: {created_at: 2024-01-01T00:00:00+08:00}
              - api: sk-two
                preferences: {created_at: "2024-01-01T00:00:00+08:00"}
              - api: sk-three
                preferences: {created_at: 2024-03-01}
            """);
    OffsetDateTime expected = OffsetDateTime.parse("2024-01-01T00:00:00+08:00");
    assertThat(config.findKey("sk-one").orElseThrow().preferences().createdAt())
        .isEqualTo(expected);
    assertThat(config.findKey("sk-two").orElseThrow().preferences().createdAt())
        .isEqualTo(expected);
    assertThat(config.findKey("sk-three").orElseThrow().preferences().createdAt())
        .isEqualTo(OffsetDateTime.parse("2024-03-01T00:00:00Z"));
  }

  @Test
  void rateLimitsAndRenamedModelsAreRead() {
    ApiConfig config =
        parse(
            """
            providers:
              - provider: p
                base_url: http://127.0.0.1:9/v1/chat/completions
                api: [k1, k2]
                model:
                  - gpt-4o
                  - upstream-name: public-name
            api_keys:
              - api: sk-limited
                preferences: {rate_limit: "60/min,1000/day", max_running: 4}
              - api: sk-open
            """);
    Provider provider = config.providers().get(0);
    assertThat(provider.apiKeys()).containsExactly("k1", "k2");
    assertThat(provider.models())
        .containsEntry("gpt-4o", "gpt-4o")
        .containsEntry("public-name", "upstream-name");
    assertThat(config.findKey("sk-limited").orElseThrow().preferences().rateLimits())
        .containsExactly(
            new RateLimit(60, Duration.ofMinutes(1)), new RateLimit(1000, Duration.ofDays(1)));
    assertThat(config.findKey("sk-limited").orElseThrow().preferences().maxRunning()).isEqualTo(4);
    assertThat(config.findKey("sk-open").orElseThrow().preferences().maxRunning()).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          price not a number   | preferences: {model_price: {gpt-4o: 'abc,1'}}                                   | api.yaml: preferences.model_price.gpt-4o: 'abc' is not a number (line 1)
          negative price       | preferences: {model_price: {gpt-4o: -0.5}}                                      | api.yaml: preferences.model_price.gpt-4o: '-0.5' is a negative price (line 1)
          unknown billing mode | api_keys: [{api: sk-count-user-key, preferences: {billing_mode: counts}}]       | api.yaml: api_keys[0] (sk-coun...-key).preferences.billing_mode: 'counts' is not a billing mode; expected token, count or hybrid (line 1)
          negative grant       | api_keys: [{api: sk-count-user-key, preferences: {credits: -5}}]                | api.yaml: api_keys[0] (sk-coun...-key).preferences.credits: '-5' is a negative grant; use -1 for unlimited (line 1)
          fractional requests  | api_keys: [{api: sk-count-user-key, preferences: {count_credits: 1.5}}]         | api.yaml: api_keys[0] (sk-coun...-key).preferences.count_credits: '1.5' is not a whole number of requests (line 1)
          bad created_at       | api_keys: [{api: sk-count-user-key, preferences: {created_at: yesterday}}]      | api.yaml: api_keys[0] (sk-coun...-key).preferences.created_at: 'yesterday' is not a timestamp; expected ISO 8601 such as 2024-01-01T00:00:00+08:00 (line 1)
          duplicate key        | api_keys: [{api: sk-count-user-key}, {api: sk-count-user-key}]                  | api.yaml: api_keys[1]: the key sk-coun...-key is listed more than once (line 1)
          no running calls     | api_keys: [{api: sk-count-user-key, preferences: {max_running: 0}}]             | api.yaml: api_keys[0] (sk-coun...-key).preferences.max_running: '0' is not a number of calls; expected 1 or more (line 1)
          running calls a word | api_keys: [{api: sk-count-user-key, preferences: {max_running: many}}]          | api.yaml: api_keys[0] (sk-coun...-key).preferences.max_running: 'many' is not a number of calls; expected 1 or more (line 1)
          bad rate limit       | api_keys: [{api: sk-count-user-key, preferences: {rate_limit: 60/fortnight}}]   | api.yaml: api_keys[0] (sk-coun...-key).preferences.rate_limit: '60/fortnight' is not a rate limit; expected N/unit such as 60/min (line 1)
          missing key          | api_keys: [{role: admin}]                                                       | api.yaml: api_keys[0]: 'api' is missing
          list for a map       | preferences: [1, 2]                                                             | api.yaml: preferences: expected a map, found a list (line 1)
          """)
  void badValuesStopWithAMessageNamingFileEntryAndProblem(
      String name, String yaml, String message) {
    assertThatThrownBy(() -> parse(yaml)).isInstanceOf(ConfigException.class).hasMessage(message);
  }

  @Test
  void duplicateMappingKeyIsNamedWithItsLine() {
    assertThatThrownBy(
            () ->
                parse(
                    """
                    preferences:
                      model_price:
                        gpt-4o: 1,2
                        gpt-4o: 3,4
                    """))
        .isInstanceOf(ConfigException.class)
        .hasMessage("api.yaml: preferences.model_price: 'gpt-4o' appears more than once (line 4)");
  }

  @Test
  void malformedYamlNamesTheFile() {
    assertThatThrownBy(() -> parse("providers: [unclosed"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("api.yaml: is not valid YAML");
  }
}
