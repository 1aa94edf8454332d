-- Delivery controls: the dispatch cursor of a campaign (the highest ledger id
-- whose batch was enqueued) and an index for the current sending rate.
-- Additive only.

ALTER TABLE campaigns ADD COLUMN dispatched_to BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sends_campaign_sent_at ON sends (campaign_id, sent_at);
