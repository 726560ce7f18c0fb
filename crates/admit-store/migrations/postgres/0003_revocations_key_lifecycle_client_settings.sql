-- Revocation events, the signing-key lifecycle, per-client token settings and
-- an absolute end for refresh families. Every added column is nullable or has
-- a default, so rows written under 0001 and 0002 read unchanged. Kept
-- column-for-column identical to migrations/sqlite.

-- The revocation feed. A sequence never hands out a value twice, even after
-- the newest rows are deleted: followers resume from the last seq seen.
-- `kind` is checked so that a misspelt kind fails loudly instead of never
-- matching a token.
CREATE TABLE revocation_events (
    seq        BIGSERIAL PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('jti', 'sid', 'grant', 'client', 'sub')),
    value      TEXT    NOT NULL,
    revoked_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX revocation_events_kind_value ON revocation_events (kind, value);
CREATE INDEX revocation_events_expires_at ON revocation_events (expires_at);

-- Rows that exist only to be locked: a transaction that writes the row named
-- `name` waits for any other that did, on PostgreSQL (a row lock) as on
-- SQLite (the writer lock). See locks.rs.
CREATE TABLE store_locks (
    name TEXT NOT NULL PRIMARY KEY
);

-- When a key became current and when it was retired; NULL for keys written
-- before 0003 or never in that state.
ALTER TABLE signing_keys ADD COLUMN activated_at BIGINT;
ALTER TABLE signing_keys ADD COLUMN retired_at BIGINT;

-- Per-client lifetimes in seconds; NULL means the server's default.
ALTER TABLE clients ADD COLUMN access_token_ttl BIGINT;
ALTER TABLE clients ADD COLUMN refresh_token_ttl BIGINT;
ALTER TABLE clients ADD COLUMN refresh_idle_ttl BIGINT;
-- A resource server allowed to introspect any token and follow the feed.
ALTER TABLE clients ADD COLUMN
    may_introspect BOOLEAN NOT NULL DEFAULT FALSE;

-- The absolute end of a family; NULL means no limit beyond each token's own.
ALTER TABLE refresh_families ADD COLUMN expires_at BIGINT;
