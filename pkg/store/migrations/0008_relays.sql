-- Pacing and retries: a campaign's own rate (messages per second, 0 for no
-- limit), changeable while it sends; and per ledger row, when it was first
-- tried (retries stop after DEARFRIEND_MAX_RETRY_AGE) and how many of its
-- attempts met a throttling relay (those do not count toward
-- DEARFRIEND_MAX_ATTEMPTS). Additive only.

ALTER TABLE campaigns ADD COLUMN rate_per_second DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE sends ADD COLUMN first_attempt_at {{TIME}};
ALTER TABLE sends ADD COLUMN throttled INTEGER NOT NULL DEFAULT 0;
