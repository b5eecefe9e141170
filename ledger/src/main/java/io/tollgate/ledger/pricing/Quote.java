package io.tollgate.ledger.pricing;

import io.tollgate.config.TokenPrice;
import java.math.BigDecimal;

/**
 * The price of one request and how it was reached.
 *
 * @param costType the rule that applied
 * @param usd the exact USD amount
 * @param requests count credits spent: 1 for a count charge, 0 for a token charge
 * @param tokenPrice the unit prices of a token charge, null for a count charge
 * @param countPrice the unit price of a count charge, null for a token charge
 * @param priceVersion the version of the price rules used
 */
public record Quote(
    CostType costType,
    BigDecimal usd,
    long requests,
    TokenPrice tokenPrice,
    BigDecimal countPrice,
    String priceVersion) {}
