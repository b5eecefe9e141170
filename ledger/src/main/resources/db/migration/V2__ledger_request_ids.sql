-- Every request id the ledger ever recorded, claimed in the same transaction as its charge event:
-- idempotency forever, without the aggregate holding the ids. Keyed by key id too, so a request id
-- that two keys happen to share can never make one key's call free.
CREATE TABLE ledger_request_id (
    key_id     VARCHAR(68)  NOT NULL,
    request_id VARCHAR(128) NOT NULL,
    PRIMARY KEY (key_id, request_id)
);
