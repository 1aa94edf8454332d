-- Scheduled sends and row leases. send_at is when a scheduled campaign
-- starts. lease_until is set while a worker holds a ledger row it is sending
-- (store.ClaimRecipients): no other batch takes the row until the lease ends,
-- and every recorded outcome clears it. Additive only.

ALTER TABLE campaigns ADD COLUMN send_at {{TIME}};
CREATE INDEX campaigns_status_send_at ON campaigns (status, send_at);
ALTER TABLE sends ADD COLUMN lease_until {{TIME}};
