-- Below a campaign's waiting_from no ledger row of it is unfinished (queued,
-- deferred or held): a rewind of dispatch starts there, not at the first
-- row. From the first row, finding the first waiting one read every row
-- already sent (the primary key's order, filtered: 0.4 s at 560,000 sent),
-- and the sweep rewinds every 30 seconds; each sender that asked for its
-- next batch meanwhile read them all again.
ALTER TABLE campaigns ADD COLUMN waiting_from BIGINT NOT NULL DEFAULT 0;
