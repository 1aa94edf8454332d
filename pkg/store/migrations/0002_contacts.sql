-- Contacts at scale: profile fields and typed custom attributes, tags, CSV
-- imports with their rejected rows, and prefix search. A suppression whose
-- email is "@example.com" suppresses the whole domain.

ALTER TABLE contacts ADD COLUMN postal_code TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN attributes {{JSON}} NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN consent_at {{TIME}};

-- Prefix search by email or name, case-insensitive (lower(x) LIKE 'q%').
CREATE INDEX contacts_email_search ON contacts (lower(email) {{PATTERN_OPS}});
CREATE INDEX contacts_first_name_search ON contacts (lower(first_name) {{PATTERN_OPS}});
CREATE INDEX contacts_last_name_search ON contacts (lower(last_name) {{PATTERN_OPS}});

CREATE TABLE tags (
    id         {{ID}},
    name       TEXT NOT NULL UNIQUE,
    created_at {{TIME}} NOT NULL
);

CREATE TABLE contact_tags (
    contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    tag_id     BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (contact_id, tag_id)
);
CREATE INDEX contact_tags_tag ON contact_tags (tag_id);

-- One CSV import. heartbeat_at moves while it runs: a running import whose
-- heartbeat stopped belonged to a process that is gone.
CREATE TABLE imports (
    id           {{ID}},
    list_id      BIGINT REFERENCES lists (id) ON DELETE SET NULL,
    filename     TEXT NOT NULL DEFAULT '',
    encoding     TEXT NOT NULL DEFAULT 'utf-8',
    status       TEXT NOT NULL DEFAULT 'running',
    rows_done    BIGINT NOT NULL DEFAULT 0,
    imported     BIGINT NOT NULL DEFAULT 0,
    updated      BIGINT NOT NULL DEFAULT 0,
    rejected     BIGINT NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    created_at   {{TIME}} NOT NULL,
    heartbeat_at {{TIME}} NOT NULL,
    finished_at  {{TIME}}
);

CREATE TABLE import_rejects (
    import_id BIGINT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line      BIGINT NOT NULL,
    reason    TEXT NOT NULL,
    raw       TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);
