package io.tollgate.config;

import java.math.BigDecimal;
import java.util.Objects;

/** USD per one million prompt tokens and per one million completion tokens. */
public record TokenPrice(BigDecimal prompt, BigDecimal completion) {

  public static final TokenPrice BUILT_IN_DEFAULT =
      new TokenPrice(BigDecimal.ONE, BigDecimal.valueOf(2));

  public TokenPrice {
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(completion, "completion");
  }

  @Override
  public String toString() {
    return prompt.toPlainString() + "," + completion.toPlainString();
  }
}
