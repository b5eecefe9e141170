package io.tollgate.gateway.routing;

import java.net.URI;
import java.time.Duration;

/**
 * One way to serve a model: a provider's endpoint, the model's name there, the provider key to use
 * for this attempt, and how long to wait.
 */
public record Route(
    String provider, URI uri, String upstreamModel, String apiKey, Duration timeout) {}
