package io.tollgate.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.ObjectMapper;

class AnswerUsageTest {

  private final ObjectMapper json = ProxyJson.mapper();
  private final TokenEstimator estimator = new TokenEstimator();
  private final AnswerUsage usage = new AnswerUsage(json, estimator);
  private final CallBody request =
      CallBody.parse(
          json,
          "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}"
              .getBytes(StandardCharsets.UTF_8));

  private Usage of(String answer) {
    return usage.ofWhole(answer.getBytes(StandardCharsets.UTF_8), request);
  }

  @Test
  void theUpstreamsCountsAreTakenAsGiven() {
    assertThat(
            of(
                "{\"id\":\"c\",\"choices\":[{\"message\":{\"content\":\"Hello.\"}}],"
                    + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}}"))
        .isEqualTo(new Usage(12, 34, false));
  }

  @Test
  void theLastUsageFieldWinsAndAMissingCompletionCountIsNone() {
    assertThat(
            of(
                "{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2},\"usage\":{\"prompt_tokens\":\"7\"}}"))
        .isEqualTo(new Usage(7, 0, false));
  }

  @Test
  void withoutUsageBothSidesAreEstimated() {
    Usage estimated = of("{\"choices\":[{\"message\":{\"content\":\"Hello there, friend.\"}}]}");
    assertThat(estimated.estimated()).isTrue();
    assertThat(estimated.promptTokens()).isEqualTo(estimator.promptTokens(request.tree()));
    assertThat(estimated.completionTokens()).isEqualTo(estimator.count("Hello there, friend."));
  }

  @Test
  void aUsageWithoutAPromptCountIsEstimated() {
    Usage estimated =
        of("{\"choices\":[{\"message\":{\"content\":\"Hi\"}}],\"usage\":{\"prompt_tokens\":null}}");
    assertThat(estimated.estimated()).isTrue();
    assertThat(estimated.completionTokens()).isEqualTo(estimator.count("Hi"));
  }

  @Test
  void anAnswerThatIsNotJsonIsChargedItsPromptOnly() {
    Usage estimated = of("{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}} trailing");
    assertThat(estimated).isEqualTo(new Usage(estimator.promptTokens(request.tree()), 0, true));
  }
}
