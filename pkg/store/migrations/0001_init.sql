-- The first schema: contacts and lists, messages and campaigns, the send
-- ledger, links, events and suppressions. {{ID}}, {{TIME}} and {{JSON}} are
-- replaced per dialect (see migrate.go).

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE contacts (
    id         {{ID}},
    email      TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL DEFAULT '',
    last_name  TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'subscribed',
    created_at {{TIME}} NOT NULL,
    updated_at {{TIME}} NOT NULL
);

CREATE TABLE lists (
    id          {{ID}},
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  {{TIME}} NOT NULL
);

CREATE TABLE list_members (
    list_id    BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    status     TEXT NOT NULL DEFAULT 'subscribed',
    created_at {{TIME}} NOT NULL,
    PRIMARY KEY (list_id, contact_id)
);
CREATE INDEX list_members_contact ON list_members (contact_id);

CREATE TABLE messages (
    id         {{ID}},
    name       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    preheader  TEXT NOT NULL DEFAULT '',
    from_name  TEXT NOT NULL,
    from_email TEXT NOT NULL,
    reply_to   TEXT NOT NULL DEFAULT '',
    layout     TEXT NOT NULL DEFAULT '',
    html       TEXT NOT NULL,
    text       TEXT NOT NULL DEFAULT '',
    created_at {{TIME}} NOT NULL,
    updated_at {{TIME}} NOT NULL
);

CREATE TABLE campaigns (
    id          {{ID}},
    name        TEXT NOT NULL,
    message_id  BIGINT NOT NULL REFERENCES messages (id),
    audience    {{JSON}} NOT NULL,
    status      TEXT NOT NULL DEFAULT 'draft',
    total       BIGINT NOT NULL DEFAULT 0,
    created_at  {{TIME}} NOT NULL,
    started_at  {{TIME}},
    finished_at {{TIME}}
);

-- The ledger: one row per (campaign, contact), the truth of who was sent what.
CREATE TABLE sends (
    id          {{ID}},
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    contact_id  BIGINT NOT NULL REFERENCES contacts (id),
    email       TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'queued',
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_reply  TEXT NOT NULL DEFAULT '',
    sent_at     {{TIME}},
    updated_at  {{TIME}} NOT NULL,
    UNIQUE (campaign_id, contact_id)
);
CREATE INDEX sends_campaign_status ON sends (campaign_id, status);

CREATE TABLE links (
    id          {{ID}},
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    url         TEXT NOT NULL,
    UNIQUE (campaign_id, url)
);

CREATE TABLE events (
    id          {{ID}},
    kind        TEXT NOT NULL,
    campaign_id BIGINT NOT NULL,
    send_id     BIGINT NOT NULL,
    contact_id  BIGINT NOT NULL,
    link_id     BIGINT,
    user_agent  TEXT NOT NULL DEFAULT '',
    created_at  {{TIME}} NOT NULL
);
CREATE INDEX events_campaign_kind ON events (campaign_id, kind);
CREATE INDEX events_send ON events (send_id);

CREATE TABLE suppressions (
    id         {{ID}},
    email      TEXT NOT NULL UNIQUE,
    reason     TEXT NOT NULL,
    created_at {{TIME}} NOT NULL
);
