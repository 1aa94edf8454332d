-- Segments: saved rule trees (compiled by pkg/audience, evaluated at count and
-- send time), and the indexes their conditions lean on.

CREATE TABLE segments (
    id          {{ID}},
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    rules       {{JSON}} NOT NULL,
    created_at  {{TIME}} NOT NULL,
    updated_at  {{TIME}} NOT NULL
);

-- "Opened (clicked) within N days" is probed once per candidate contact. A
-- partial index per kind is about half the size of one over (contact_id,
-- kind, created_at), so more of it stays in memory; the probe is index-only.
CREATE INDEX events_contact_opens ON events (contact_id, created_at) WHERE kind = 'open';
CREATE INDEX events_contact_clicks ON events (contact_id, created_at) WHERE kind = 'click';
-- Region first, id second: a region condition is answered from the index alone.
CREATE INDEX contacts_region ON contacts (region, id);
