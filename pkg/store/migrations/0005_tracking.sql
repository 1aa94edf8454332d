-- Tracking, unsubscribes and the preference center: machine-flagged events,
-- unsubscribe reasons and scope, topics, per-contact preferences, webhooks.
-- Additive only: new tables and new columns.

ALTER TABLE events ADD COLUMN machine BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE events ADD COLUMN reason TEXT NOT NULL DEFAULT '';
-- list_id is set when an unsubscribe left one list only; NULL means everything.
ALTER TABLE events ADD COLUMN list_id BIGINT;
CREATE INDEX events_campaign_created ON events (campaign_id, created_at);

CREATE TABLE topics (
    id          {{ID}},
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  {{TIME}} NOT NULL
);

ALTER TABLE campaigns ADD COLUMN topic_id BIGINT REFERENCES topics (id);

-- One row per contact who changed a setting; no row means the defaults.
CREATE TABLE contact_preferences (
    contact_id   BIGINT PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
    frequency    TEXT NOT NULL DEFAULT 'all',
    paused_until {{TIME}},
    updated_at   {{TIME}} NOT NULL
);

CREATE TABLE topic_optouts (
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    topic_id   BIGINT NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    created_at {{TIME}} NOT NULL,
    PRIMARY KEY (contact_id, topic_id)
);

-- The frequency cap asks whether a contact was sent anything in the last days.
CREATE INDEX sends_contact_sent ON sends (contact_id, sent_at);

CREATE TABLE webhooks (
    id         {{ID}},
    url        TEXT NOT NULL,
    events     {{JSON}} NOT NULL,
    secret     TEXT NOT NULL,
    created_at {{TIME}} NOT NULL
);
