-- The import screen keeps a file whose import was refused, so the form can
-- be sent again (another list, another encoding) without choosing the file
-- again: a browser cannot keep a file input's value across a round trip.
-- The row is the uploading user's, named by the SHA-256 of a random token
-- the form carries, and deleted when used or after an hour. In the
-- database, not on a disk, so any serve process takes the form back.
-- Additive only.

CREATE TABLE kept_uploads (
    key_hash   TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filename   TEXT NOT NULL,
    data       BYTEA NOT NULL,
    created_at {{TIME}} NOT NULL
);
CREATE INDEX kept_uploads_created ON kept_uploads (created_at);

-- What an import wrote as a state or province code, value by value
-- ([{"from": "New York", "to": "NY", "rows": 12}, ...], JSON), for its report.
ALTER TABLE imports ADD COLUMN region_changes TEXT NOT NULL DEFAULT '';
