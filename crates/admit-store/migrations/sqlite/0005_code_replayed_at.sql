-- When a used code was presented again: the redemption in progress checks it after
-- issuing, so a replay in that moment still revokes what was issued (RFC 6749 §4.1.2).
ALTER TABLE authorization_codes ADD COLUMN replayed_at BIGINT;
