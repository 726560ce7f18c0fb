-- Per-client lifetimes of authorization codes and of SSO sessions as this client
-- accepts them (NULL: the server's).
ALTER TABLE clients ADD COLUMN code_ttl BIGINT;
ALTER TABLE clients ADD COLUMN session_ttl BIGINT;
