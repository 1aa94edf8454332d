-- The admin web UI: its users, their sessions and failed sign-ins. A session
-- row keeps only the SHA-256 of the cookie's random id, so a leaked database
-- does not hand out live sessions. Additive only.

CREATE TABLE users (
    id            {{ID}},
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    {{TIME}} NOT NULL
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at {{TIME}} NOT NULL,
    expires_at {{TIME}} NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins, counted per account and per address over a recent window;
-- a success clears the account's rows.
CREATE TABLE signin_failures (
    id         {{ID}},
    email      TEXT NOT NULL,
    address    TEXT NOT NULL,
    created_at {{TIME}} NOT NULL
);
CREATE INDEX signin_failures_email ON signin_failures (email, created_at);
CREATE INDEX signin_failures_address ON signin_failures (address, created_at);
