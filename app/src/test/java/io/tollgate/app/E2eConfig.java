package io.tollgate.app;

/** The api.yaml of the end-to-end tests: BEHAVIOUR.md's prices, a key per test. */
final class E2eConfig {

  private E2eConfig() {}

  static String yaml(String upstreamChatUrl) {
    return """
        providers:
          - provider: unreachable
            base_url: http://127.0.0.1:1/v1/chat/completions
            api: sk-never-used
            model:
              - gpt-4-turbo
          - provider: fake
            base_url: %s
            api: %s
            model:
              - gpt-4o
              - gpt-4o-mini
              - gpt-4-turbo
              - claude-3-5-sonnet
              - fail-model
              - endless-model
              - text-embedding-3-small
              - upstream-special: renamed-model
        api_keys:
          - api: sk-e2e-token
            preferences: {billing_mode: token, credits: 10}
          - api: sk-e2e-count
            model: [gpt-4o, claude-3-5-sonnet]
            preferences: {billing_mode: count, count_credits: 1000}
          - api: sk-e2e-hybrid
            preferences: {billing_mode: hybrid, credits: 5, count_credits: 500}
          - api: sk-e2e-stream
          - api: sk-e2e-fail
          - api: sk-e2e-failover
          - api: sk-e2e-gone
          - api: sk-e2e-broke
            preferences: {credits: 0}
          - api: sk-e2e-two
            preferences: {billing_mode: count, count_credits: 2}
          - api: sk-e2e-small
            preferences: {credits: 0.003}
          - api: sk-e2e-limited
            preferences: {rate_limit: 2/min}
          - api: sk-e2e-embed
          - api: sk-e2e-replay
          - api: sk-e2e-dlt
          - api: sk-e2e-openai
          - api: sk-e2e-rename
          - api: sk-e2e-headers
          - api: sk-e2e-metrics
          - api: sk-e2e-running
            preferences: {credits: 10}
        preferences:
          count_billing:
            enabled: true
            default_count_price: 0.001
            model_count_prices: {gpt-4: 0.01, gpt-4o: 0.008, claude-3: 0.005, default: 0.001}
          model_price:
            claude-3-5-sonnet: 0.12,0.48
            gpt-4o-mini: 0.001
            gpt-4o: {token_price: "1,2", count_price: 0.01}
            default: 1,2
          model_timeout:
            default: 30
        """
        .formatted(upstreamChatUrl, FakeOpenAiUpstream.UPSTREAM_KEY);
  }
}
