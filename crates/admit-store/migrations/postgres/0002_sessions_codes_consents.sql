-- The authorization-code flow and OpenID Connect: SSO sessions, single-use
-- authorization codes and remembered consents, plus the columns they need on
-- existing tables. Every added column has a default (or is nullable), so rows
-- written under 0001 read unchanged. Kept column-for-column identical to
-- migrations/sqlite.

ALTER TABLE users ADD COLUMN
    email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- The client's ID-token signing algorithm; NULL means the server default.
ALTER TABLE clients ADD COLUMN id_token_alg TEXT;

-- The SSO session a family was issued under, so logging out can revoke it.
-- NULL for grants with no browser session (password, client credentials).
ALTER TABLE refresh_families ADD COLUMN session_id TEXT;
CREATE INDEX refresh_families_session_id ON refresh_families (session_id);

-- No foreign key to users, as for refresh_families: deleting a user revokes
-- its sessions, and the revoked rows stay until they expire and are purged.
CREATE TABLE sessions (
    id          TEXT    NOT NULL PRIMARY KEY,
    secret_hash BYTEA   NOT NULL UNIQUE,
    user_id     TEXT    NOT NULL,
    auth_time   BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Used codes stay until they expire so that a replay is recognised as one
-- (and the family issued from the code, family_id, can be revoked).
CREATE TABLE authorization_codes (
    code_hash             BYTEA   NOT NULL PRIMARY KEY,
    client_id             TEXT    NOT NULL,
    user_id               TEXT    NOT NULL,
    session_id            TEXT    NOT NULL,
    redirect_uri          TEXT    NOT NULL,
    scope                 TEXT    NOT NULL,
    nonce                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    auth_time             BIGINT  NOT NULL,
    created_at            BIGINT  NOT NULL,
    expires_at            BIGINT  NOT NULL,
    used_at               BIGINT,
    family_id             TEXT
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

-- One row per (user, client): the scopes the user has agreed to give it.
CREATE TABLE consents (
    user_id    TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    granted_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client_id ON consents (client_id);
