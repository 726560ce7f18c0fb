-- admit's initial schema for SQLite. Timestamps are unix seconds (INTEGER),
-- booleans are INTEGER 0/1, lists are encoded by the store (see clients.rs).

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    email         TEXT,
    name          TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id                 TEXT    NOT NULL PRIMARY KEY,
    secret_hash               BLOB,
    public                    INTEGER NOT NULL CHECK (public IN (0, 1)),
    name                      TEXT,
    grant_types               TEXT    NOT NULL,
    redirect_uris             TEXT    NOT NULL,
    post_logout_redirect_uris TEXT    NOT NULL,
    scopes                    TEXT    NOT NULL,
    skip_consent              INTEGER NOT NULL CHECK (skip_consent IN (0, 1)),
    require_pkce              INTEGER NOT NULL CHECK (require_pkce IN (0, 1)),
    created_at                INTEGER NOT NULL
);

CREATE TABLE signing_keys (
    kid             TEXT    NOT NULL PRIMARY KEY,
    alg             TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    private_key_enc BLOB    NOT NULL,
    public_jwk      TEXT,
    created_at      INTEGER NOT NULL
);

-- user_id and client_id carry no foreign key on purpose: deleting a user or
-- client revokes its families, and the revoked rows stay until purged.
CREATE TABLE refresh_families (
    id         TEXT    NOT NULL PRIMARY KEY,
    client_id  TEXT    NOT NULL,
    user_id    TEXT,
    scope      TEXT    NOT NULL,
    auth_time  INTEGER,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX refresh_families_user_id ON refresh_families (user_id);
CREATE INDEX refresh_families_client_id ON refresh_families (client_id);

CREATE TABLE refresh_tokens (
    token_hash BLOB    NOT NULL PRIMARY KEY,
    family_id  TEXT    NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
