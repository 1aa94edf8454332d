-- Campaign UTM parameters, added to the targets of tracked links when set.
ALTER TABLE campaigns ADD COLUMN utm_source TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN utm_medium TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN utm_campaign TEXT NOT NULL DEFAULT '';
