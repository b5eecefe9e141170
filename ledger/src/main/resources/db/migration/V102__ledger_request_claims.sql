-- A request id's claim becomes 16 bytes: the first 128 bits of SHA-256 over the key id, a zero
-- byte and the request id, all in UTF-8 (JdbcRequestIdRegistry.claimOf computes the same in Java).
-- The claim row held the 68-character key id and the request id twice over, in its heap row and in
-- its primary key: about 120 and 100 bytes per charge, on every charge, under a libc collation.
-- Claims of 16 bytes make the table and its index about a quarter of the size and compare as bytes.
-- Two different requests share a claim only with a chance of about 2^-128 per pair.
--
-- Numbered after the projections' V100 and V101, which databases in use already hold: Flyway
-- refuses to apply a version below the highest applied one.
CREATE TABLE ledger_request_claim (
    claim UUID NOT NULL,
    PRIMARY KEY (claim)
);

-- Every id recorded before this change stays claimed. The lock keeps a ledger node of the previous
-- version from claiming an id between the copy and the drop; such a node's next batch then fails on
-- the missing table and its messages are delivered again, to a node of this version.
LOCK TABLE ledger_request_id IN ACCESS EXCLUSIVE MODE;

INSERT INTO ledger_request_claim (claim)
SELECT encode(substr(sha256(convert_to(key_id, 'UTF8') || '\x00'::bytea
                            || convert_to(request_id, 'UTF8')), 1, 16), 'hex')::uuid
FROM ledger_request_id
ON CONFLICT DO NOTHING;

DROP TABLE ledger_request_id;
