-- A/B tests: up to four variants of a campaign, each overriding the subject,
-- the body (a message of its own) or both; the campaign's test settings and
-- phase; and the variant each ledger row was sent. Additive only.

CREATE TABLE campaign_variants (
    id          {{ID}},
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    message_id  BIGINT REFERENCES messages (id),
    created_at  {{TIME}} NOT NULL,
    UNIQUE (campaign_id, label)
);

-- ab_share is the percentage of the audience in the test (0: no test);
-- ab_seed orders the audience for the split (NULL: the campaign's id);
-- ab_phase is '' (no test), 'testing', 'decided' or 'split' (a share of 100).
ALTER TABLE campaigns ADD COLUMN ab_share INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN ab_metric TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN ab_wait_seconds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN ab_seed BIGINT;
ALTER TABLE campaigns ADD COLUMN ab_winner_id BIGINT REFERENCES campaign_variants (id);
ALTER TABLE campaigns ADD COLUMN ab_phase TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN ab_decided_at {{TIME}};

ALTER TABLE sends ADD COLUMN variant_id BIGINT REFERENCES campaign_variants (id);
CREATE INDEX sends_variant ON sends (variant_id) WHERE variant_id IS NOT NULL;
