-- The read side. Every table here is a view of domain_event_entry: it can be truncated and rebuilt
-- from the events at any time (the views processor's @ResetHandler does exactly that). Money is
-- NUMERIC, never floating point, so sums equal the ledger's BigDecimal sums to the last digit.

-- api_keys_states: one row per key, the same fold as the ledger's AccountState.evolve.
CREATE TABLE api_keys_states (
    key_id          VARCHAR(68)  NOT NULL PRIMARY KEY,
    billing_mode    VARCHAR(16)  NOT NULL,
    credits         NUMERIC      NOT NULL,
    count_credits   BIGINT       NOT NULL,
    period_start    TIMESTAMPTZ,
    enabled         BOOLEAN      NOT NULL,
    spent_usd       NUMERIC      NOT NULL,
    spent_requests  BIGINT       NOT NULL,
    registered_at   TIMESTAMPTZ  NOT NULL,
    last_event_at   TIMESTAMPTZ  NOT NULL,
    last_global_index BIGINT     NOT NULL
);

-- What the current billing period spent, per model and cost type: all_tokens_info and
-- cost_details of api_keys_states. Emptied for a key when its period restarts.
CREATE TABLE key_period_usage (
    key_id            VARCHAR(68)  NOT NULL,
    model             VARCHAR(255) NOT NULL,
    cost_type         VARCHAR(16)  NOT NULL,
    request_count     BIGINT       NOT NULL,
    prompt_tokens     BIGINT       NOT NULL,
    completion_tokens BIGINT       NOT NULL,
    cost              NUMERIC      NOT NULL,
    PRIMARY KEY (key_id, model, cost_type)
);

-- token_usage and stats: hourly buckets (UTC) by key, model and endpoint, by the time the request
-- completed. Failed requests count in requests but not in successes, tokens or cost.
CREATE TABLE token_usage (
    bucket            TIMESTAMPTZ  NOT NULL,
    key_id            VARCHAR(68)  NOT NULL,
    model             VARCHAR(255) NOT NULL,
    endpoint          VARCHAR(255) NOT NULL,
    requests          BIGINT       NOT NULL,
    successes         BIGINT       NOT NULL,
    prompt_tokens     BIGINT       NOT NULL,
    completion_tokens BIGINT       NOT NULL,
    cost              NUMERIC      NOT NULL,
    PRIMARY KEY (bucket, key_id, model, endpoint)
);
CREATE INDEX token_usage_by_key ON token_usage (key_id, bucket);

-- The audit trail: one row per ledger event, keyed by its global index, with the balances after it.
CREATE TABLE billing_history (
    global_index          BIGINT       NOT NULL PRIMARY KEY,
    key_id                VARCHAR(68)  NOT NULL,
    at                    TIMESTAMPTZ  NOT NULL,
    event_type            VARCHAR(32)  NOT NULL,
    origin                VARCHAR(16),
    request_id            VARCHAR(128),
    model                 VARCHAR(255),
    endpoint              VARCHAR(255),
    provider              VARCHAR(255),
    completed_at          TIMESTAMPTZ,
    billing_mode          VARCHAR(16)  NOT NULL,
    cost_type             VARCHAR(16),
    prompt_tokens         BIGINT,
    completion_tokens     BIGINT,
    estimated             BOOLEAN,
    in_period             BOOLEAN,
    http_status           INTEGER,
    usd                   NUMERIC,
    requests              BIGINT,
    price_version         VARCHAR(128),
    token_price_prompt    NUMERIC,
    token_price_completion NUMERIC,
    count_price           NUMERIC,
    reason                TEXT,
    credits_after         NUMERIC      NOT NULL,
    count_credits_after   BIGINT       NOT NULL,
    spent_usd_after       NUMERIC      NOT NULL,
    spent_requests_after  BIGINT       NOT NULL,
    period_start_after    TIMESTAMPTZ
);
CREATE INDEX billing_history_by_key ON billing_history (key_id, global_index DESC);
