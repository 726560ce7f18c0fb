-- Failed logins and the audit log. Kept column-for-column identical to
-- migrations/postgres.

-- Failed password checks, counted per key: `user:` and the canonical
-- username (known or not, so a lock says nothing about whether the account
-- exists), or `addr:` and the client address. A count older than the policy's
-- window starts again at one; `admit user unlock` deletes the row.
CREATE TABLE login_failures (
    key      TEXT    NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at  INTEGER NOT NULL
);
CREATE INDEX login_failures_last_at ON login_failures (last_at);

-- Security events, hash-chained: `hash` is SHA-256 over the record and the
-- previous record's hash, and `seq` is contiguous from 1, so an edited,
-- deleted or inserted record breaks the chain (see audit.rs). Never purged.
CREATE TABLE audit_log (
    seq       INTEGER NOT NULL PRIMARY KEY,
    at        INTEGER NOT NULL,
    event     TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    subject   TEXT,
    client_id TEXT,
    address   TEXT,
    outcome   TEXT    NOT NULL,
    detail    TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Signed chain heads: a JWS by one of admit's keys over (seq, hash), written
-- now and then, so rewriting the whole chain after a record is detectable too.
CREATE TABLE audit_anchors (
    seq       INTEGER NOT NULL PRIMARY KEY,
    hash      TEXT    NOT NULL,
    signed_at INTEGER NOT NULL,
    jws       TEXT    NOT NULL
);
