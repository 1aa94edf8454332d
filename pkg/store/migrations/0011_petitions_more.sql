-- Petitions, continued: sign-on letters signed by organizations, signers who
-- agree to be shown on the page, and the index the page's recent signers and
-- the report by day read.

ALTER TABLE petitions ADD COLUMN kind TEXT NOT NULL DEFAULT 'petition';
ALTER TABLE petitions ADD COLUMN org_order TEXT NOT NULL DEFAULT 'approved';

ALTER TABLE signatures ADD COLUMN show_name BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE signatures ADD COLUMN city TEXT NOT NULL DEFAULT '';
CREATE INDEX signatures_petition_created ON signatures (petition_id, created_at);

-- An organization signs a letter once (per contact email); it shows on the
-- letter only once an organizer approves it.
CREATE TABLE organization_signatures (
    id           {{ID}},
    petition_id  BIGINT NOT NULL REFERENCES petitions (id) ON DELETE CASCADE,
    organization TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    email        TEXT NOT NULL,
    website      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'pending',
    created_at   {{TIME}} NOT NULL,
    decided_at   {{TIME}},
    UNIQUE (petition_id, email)
);
CREATE INDEX organization_signatures_status ON organization_signatures (petition_id, status);
