package io.tollgate.config;

import java.time.Duration;

/** One {@code N/unit} term of a {@code rate_limit} value: at most {@code requests} per window. */
public record RateLimit(int requests, Duration window) {}
