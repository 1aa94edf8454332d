-- The rows a campaign still owes, by id: what dispatch (the first waiting
-- row after its cursor) and a batch's claim (waiting rows in an id range)
-- look for. Through (campaign_id, status) both read every waiting row of
-- the campaign: at 1,000,000 recipients, hundreds of milliseconds a call,
-- more when the table grew faster than its statistics. A row leaves this
-- index's reach as soon as it is sent, so it stays the size of what is
-- left to send.
CREATE INDEX sends_waiting ON sends (campaign_id, id) WHERE status IN ('queued', 'deferred', 'held');
