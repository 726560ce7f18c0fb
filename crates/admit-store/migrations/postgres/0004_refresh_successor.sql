-- The response a rotation answered with, encrypted by the server, so a repeat of the
-- same refresh within a short grace window gets the same token pair (exactly-once refresh).
ALTER TABLE refresh_tokens ADD COLUMN successor_enc BYTEA;
