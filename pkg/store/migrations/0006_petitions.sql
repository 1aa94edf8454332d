-- Petitions and their signatures. A person signs a petition once: the unique
-- key, not a check before the insert, keeps the count exact under concurrency.

CREATE TABLE petitions (
    id             {{ID}},
    slug           TEXT NOT NULL UNIQUE,
    title          TEXT NOT NULL,
    target         TEXT NOT NULL DEFAULT '',
    petition_text  TEXT NOT NULL DEFAULT '',
    goal           BIGINT NOT NULL DEFAULT 0,
    open           BOOLEAN NOT NULL DEFAULT TRUE,
    thank_you_text TEXT NOT NULL DEFAULT '',
    share_text     TEXT NOT NULL DEFAULT '',
    created_at     {{TIME}} NOT NULL
);

CREATE TABLE signatures (
    id                  {{ID}},
    petition_id         BIGINT NOT NULL REFERENCES petitions (id) ON DELETE CASCADE,
    contact_id          BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    campaign_id         BIGINT REFERENCES campaigns (id) ON DELETE SET NULL,
    send_id             BIGINT REFERENCES sends (id) ON DELETE SET NULL,
    referrer_contact_id BIGINT REFERENCES contacts (id) ON DELETE SET NULL,
    comment             TEXT NOT NULL DEFAULT '',
    created_at          {{TIME}} NOT NULL,
    UNIQUE (petition_id, contact_id)
);
CREATE INDEX signatures_campaign ON signatures (campaign_id);
