-- Managing the admin UI's users: an admin disables a user (disabled_at set:
-- no sign-in, no session works) or hands out a password-reset link, of
-- which only the SHA-256 of its token is kept; a link works once, before it
-- expires. Additive only.

ALTER TABLE users ADD COLUMN disabled_at {{TIME}};

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at {{TIME}} NOT NULL,
    expires_at {{TIME}} NOT NULL,
    used_at    {{TIME}}
);
CREATE INDEX password_resets_user ON password_resets (user_id);
