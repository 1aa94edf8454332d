-- An address is a person whatever its letter case. Contacts, suppressions and
-- letter signers get email_key, the address as store.EmailKey folds it, and
-- become unique by it. The key is computed in Go, so the columns are added
-- empty, the merge step (migrate_merge.go) fills them and merges the case
-- twins already stored, and only then are the unique indexes built.

ALTER TABLE contacts ADD COLUMN email_key TEXT;
ALTER TABLE suppressions ADD COLUMN email_key TEXT;
ALTER TABLE organization_signatures ADD COLUMN email_key TEXT;

-- step: merge_case_twins

CREATE UNIQUE INDEX contacts_email_key_unique ON contacts (email_key);
CREATE UNIQUE INDEX suppressions_email_key_unique ON suppressions (email_key);
CREATE UNIQUE INDEX organization_signatures_email_key_unique ON organization_signatures (petition_id, email_key);

-- Prefix search by email reads the key (already lower-case).
DROP INDEX contacts_email_search;
CREATE INDEX contacts_email_key_search ON contacts (email_key {{PATTERN_OPS}});
