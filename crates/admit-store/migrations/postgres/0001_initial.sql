-- admit's initial schema for PostgreSQL. Kept column-for-column identical to
-- migrations/sqlite so one set of queries serves both backends.

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    email         TEXT,
    name          TEXT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE clients (
    client_id                 TEXT    NOT NULL PRIMARY KEY,
    secret_hash               BYTEA,
    public                    BOOLEAN NOT NULL,
    name                      TEXT,
    grant_types               TEXT    NOT NULL,
    redirect_uris             TEXT    NOT NULL,
    post_logout_redirect_uris TEXT    NOT NULL,
    scopes                    TEXT    NOT NULL,
    skip_consent              BOOLEAN NOT NULL,
    require_pkce              BOOLEAN NOT NULL,
    created_at                BIGINT  NOT NULL
);

CREATE TABLE signing_keys (
    kid             TEXT    NOT NULL PRIMARY KEY,
    alg             TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    private_key_enc BYTEA   NOT NULL,
    public_jwk      TEXT,
    created_at      BIGINT  NOT NULL
);

-- user_id and client_id carry no foreign key on purpose: deleting a user or
-- client revokes its families, and the revoked rows stay until purged.
CREATE TABLE refresh_families (
    id         TEXT    NOT NULL PRIMARY KEY,
    client_id  TEXT    NOT NULL,
    user_id    TEXT,
    scope      TEXT    NOT NULL,
    auth_time  BIGINT,
    created_at BIGINT  NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX refresh_families_user_id ON refresh_families (user_id);
CREATE INDEX refresh_families_client_id ON refresh_families (client_id);

CREATE TABLE refresh_tokens (
    token_hash BYTEA   NOT NULL PRIMARY KEY,
    family_id  TEXT    NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    rotated_at BIGINT
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
