-- What the mail system reports back (bounces, blocks, complaints), after
-- matching to a send: one row per report event, unique by the event's id so
-- that the same report taken twice counts once. And the reputation guard's
-- state on each campaign: why it paused, and the counts an organizer's
-- resume acknowledged. Additive only.

CREATE TABLE bounce_events (
    id          {{ID}},
    event_id    TEXT NOT NULL,
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    diagnostic  TEXT NOT NULL DEFAULT '',
    email_key   TEXT NOT NULL,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    send_id     BIGINT NOT NULL REFERENCES sends (id),
    contact_id  BIGINT NOT NULL REFERENCES contacts (id),
    relay       TEXT NOT NULL DEFAULT '',
    matched_by  TEXT NOT NULL,
    reported_at {{TIME}} NOT NULL,
    created_at  {{TIME}} NOT NULL
);
CREATE UNIQUE INDEX bounce_events_event_id ON bounce_events (event_id);
CREATE INDEX bounce_events_campaign ON bounce_events (campaign_id, kind);
CREATE INDEX bounce_events_soft ON bounce_events (email_key, kind, reported_at);
CREATE INDEX bounce_events_contact ON bounce_events (contact_id);
CREATE INDEX bounce_events_reported ON bounce_events (reported_at);
-- Refusals at send time by day, for the bounce report over time.
CREATE INDEX sends_refused_at ON sends (updated_at) WHERE status IN ('bounced', 'blocked');

ALTER TABLE campaigns ADD COLUMN pause_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN guard_attempted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN guard_sent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN guard_hard BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN guard_blocked BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN guard_complaints BIGINT NOT NULL DEFAULT 0;
