-- The organization's identity as the admin's Branding screen sets it, and
-- the image library. Images live in the database, not on a disk, so that
-- every serve process answers for each one; a file is named by the SHA-256
-- of its bytes, so the same upload twice is one row and its URL never
-- changes meaning. BYTEA is PostgreSQL's binary type; SQLite takes the name
-- and stores the bytes as a BLOB. Additive only.

CREATE TABLE media (
    id           {{ID}},
    sha256       TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    data         BYTEA NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   {{TIME}} NOT NULL
);
CREATE INDEX media_created ON media (created_at);

-- One row at most (id 1); without it the DEARFRIEND_* variables are the
-- branding. The logo is an image of the library, which cannot be deleted
-- while it is the logo.
CREATE TABLE branding (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    org_name       TEXT NOT NULL,
    logo_id        BIGINT REFERENCES media (id),
    primary_color  TEXT NOT NULL,
    accent_color   TEXT NOT NULL,
    footer_text    TEXT NOT NULL,
    postal_address TEXT NOT NULL,
    from_name      TEXT NOT NULL,
    from_email     TEXT NOT NULL,
    updated_by     TEXT NOT NULL,
    updated_at     {{TIME}} NOT NULL
);
