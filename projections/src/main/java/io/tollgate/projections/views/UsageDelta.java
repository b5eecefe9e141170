package io.tollgate.projections.views;

import java.math.BigDecimal;

/** What one batch adds to a usage row; written as an additive upsert. */
public final class UsageDelta {

  long requests;
  long successes;
  long promptTokens;
  long completionTokens;
  BigDecimal cost = BigDecimal.ZERO;

  void add(long requestCount, long successCount, long prompt, long completion, BigDecimal usd) {
    requests += requestCount;
    successes += successCount;
    promptTokens += prompt;
    completionTokens += completion;
    cost = cost.add(usd);
  }

  public long requests() {
    return requests;
  }

  public long successes() {
    return successes;
  }

  public long promptTokens() {
    return promptTokens;
  }

  public long completionTokens() {
    return completionTokens;
  }

  public BigDecimal cost() {
    return cost;
  }
}
