-- Scheduling in a chosen time zone. time_zone is the IANA zone a campaign's
-- time was chosen in; local_time, when set, is that time as a wall clock
-- (2006-01-02T15:04:05) at which each recipient gets the message in their
-- own zone (contacts.time_zone, else the campaign's). not_before is when a
-- ledger row may be sent: NULL for at once. Additive only.

ALTER TABLE campaigns ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN local_time TEXT NOT NULL DEFAULT '';
ALTER TABLE sends ADD COLUMN not_before {{TIME}};
