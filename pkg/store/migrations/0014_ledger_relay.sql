-- The relay that refused a message for the sender's sake (ledger status
-- blocked): a blocklist or a policy is about one relay's address and
-- reputation, so the campaign's report counts blocks per relay. Additive only.

ALTER TABLE sends ADD COLUMN relay TEXT NOT NULL DEFAULT '';
