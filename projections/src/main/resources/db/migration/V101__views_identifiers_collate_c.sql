-- Key ids, models, endpoints and cost types are identifiers, compared byte for byte. Under the "C"
-- collation PostgreSQL compares them with memcmp and sorts them with abbreviated keys; under a
-- libc locale (even C.UTF-8) every comparison goes through strcoll. Building the views' indexes
-- on a million rows took a third longer that way, and every live insert pays the same. For these
-- ASCII identifiers the order is the same as before.
ALTER TABLE api_keys_states
    ALTER COLUMN key_id TYPE VARCHAR(68) COLLATE "C";

ALTER TABLE key_period_usage
    ALTER COLUMN key_id TYPE VARCHAR(68) COLLATE "C",
    ALTER COLUMN model TYPE VARCHAR(255) COLLATE "C",
    ALTER COLUMN cost_type TYPE VARCHAR(16) COLLATE "C";

ALTER TABLE token_usage
    ALTER COLUMN key_id TYPE VARCHAR(68) COLLATE "C",
    ALTER COLUMN model TYPE VARCHAR(255) COLLATE "C",
    ALTER COLUMN endpoint TYPE VARCHAR(255) COLLATE "C";

ALTER TABLE billing_history
    ALTER COLUMN key_id TYPE VARCHAR(68) COLLATE "C";
