package io.tollgate.config;

import java.math.BigDecimal;

/**
 * One {@code model_price} entry: a token price, a per-request (count) price, or both. Either may be
 * null; a string in the file gives a token price, a number a count price, a map either or both.
 */
public record ModelPrice(TokenPrice tokenPrice, BigDecimal countPrice) {}
