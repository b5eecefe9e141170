-- Aggregate and event identifiers are compared byte for byte, as the views' identifiers are since
-- V101: under a libc collation (even C.UTF-8) every comparison in their unique indexes goes through
-- strcoll, on every event appended. Only equality and the ids' ASCII order are ever asked of them.
-- PostgreSQL rebuilds the indexes on these columns; the rows themselves are not rewritten.
ALTER TABLE domain_event_entry
    ALTER COLUMN aggregate_identifier TYPE VARCHAR(255) COLLATE "C",
    ALTER COLUMN event_identifier TYPE VARCHAR(255) COLLATE "C";

ALTER TABLE snapshot_event_entry
    ALTER COLUMN aggregate_identifier TYPE VARCHAR(255) COLLATE "C",
    ALTER COLUMN event_identifier TYPE VARCHAR(255) COLLATE "C";
