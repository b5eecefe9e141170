package io.tollgate.gateway.routing;

import io.tollgate.config.ApiConfig;
import io.tollgate.config.Provider;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where each public model name can be served, from api.yaml's providers in file order. A call tries
 * them in that order, the next one when an upstream cannot be reached or answers 5xx or 429; a
 * provider with several keys uses them in turn, one per call.
 */
public final class Routes {

  /** uni-api's base_url is the chat completions URL; other endpoints sit beside it. */
  private static final String CHAT_PATH = "/chat/completions";

  private static final String EMBEDDINGS_PATH = "/embeddings";

  private static final Duration FALLBACK_TIMEOUT = Duration.ofSeconds(100);

  /** Its URIs and timeout are worked out once, not per call. */
  private record Candidate(
      Provider provider,
      String upstreamModel,
      AtomicLong turn,
      URI chatUri,
      URI embeddingsUri,
      Duration timeout) {

    URI uri(String endpoint) {
      return switch (endpoint) {
        case CHAT_PATH -> chatUri;
        case EMBEDDINGS_PATH -> embeddingsUri;
        default -> endpointUri(provider.baseUrl(), endpoint);
      };
    }
  }

  private final Map<String, List<Candidate>> byModel = new LinkedHashMap<>();
  private final Map<String, Duration> modelTimeouts;

  public Routes(ApiConfig config) {
    this.modelTimeouts = config.modelTimeouts();
    for (Provider provider : config.providers()) {
      AtomicLong turn = new AtomicLong();
      provider
          .models()
          .forEach(
              (publicName, upstreamName) ->
                  byModel
                      .computeIfAbsent(publicName, name -> new ArrayList<>())
                      .add(
                          new Candidate(
                              provider,
                              upstreamName,
                              turn,
                              endpointUri(provider.baseUrl(), CHAT_PATH),
                              endpointUri(provider.baseUrl(), EMBEDDINGS_PATH),
                              timeout(provider, publicName))));
    }
  }

  /** Every public model name some provider serves, in file order. */
  public Set<String> models() {
    return new LinkedHashSet<>(byModel.keySet());
  }

  /**
   * The attempts for one call of {@code model} at {@code endpoint} ("/chat/completions" or
   * "/embeddings").
   */
  public List<Route> plan(String model, String endpoint) {
    List<Candidate> candidates = byModel.getOrDefault(model, List.of());
    List<Route> plan = new ArrayList<>(candidates.size());
    for (Candidate candidate : candidates) {
      Provider provider = candidate.provider();
      List<String> keys = provider.apiKeys();
      String key =
          keys.isEmpty()
              ? null
              : keys.get((int) (candidate.turn().getAndIncrement() % keys.size()));
      plan.add(
          new Route(
              provider.name(),
              candidate.uri(endpoint),
              candidate.upstreamModel(),
              key,
              candidate.timeout()));
    }
    return plan;
  }

  private static URI endpointUri(String baseUrl, String endpoint) {
    String base =
        baseUrl.endsWith(CHAT_PATH)
            ? baseUrl.substring(0, baseUrl.length() - CHAT_PATH.length())
            : baseUrl;
    return URI.create(base + endpoint);
  }

  /** The provider's own timeout, else the longest model_timeout prefix, else its default. */
  private Duration timeout(Provider provider, String model) {
    if (provider.timeout() != null) {
      return provider.timeout();
    }
    return ModelPrefixes.longest(modelTimeouts.keySet(), model)
        .map(modelTimeouts::get)
        .orElseGet(() -> modelTimeouts.getOrDefault(ModelPrefixes.DEFAULT, FALLBACK_TIMEOUT));
  }
}
