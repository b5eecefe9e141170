package io.tollgate.gateway.proxy;

/** Tokens of one call, as the upstream reported them or as estimated when it did not. */
public record Usage(long promptTokens, long completionTokens, boolean estimated) {}
