-- The outbox of embedded mode: every message the built-in SMTP capture
-- accepted, kept across restarts for the outbox page. Production relays
-- never write here. The raw message is last, so that listing and searching
-- read the short columns without the body. Additive only.

CREATE TABLE outbox_messages (
    id          {{ID}},
    received_at {{TIME}} NOT NULL,
    mail_from   TEXT NOT NULL DEFAULT '',
    recipients  TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    size        BIGINT NOT NULL DEFAULT 0,
    raw         {{BYTES}} NOT NULL
);
