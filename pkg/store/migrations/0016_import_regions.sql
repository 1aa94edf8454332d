-- An import counts the rows whose region it wrote as a state or province
-- code ("New York" as "NY"), for its report.

ALTER TABLE imports ADD COLUMN regions_normalized BIGINT NOT NULL DEFAULT 0;
