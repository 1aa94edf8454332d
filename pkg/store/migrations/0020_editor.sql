-- The block editor and the organizer's desk: a message written with blocks
-- keeps them (JSON, '' for one written as HTML) beside the HTML made of
-- them, so it opens again in the editor; a sent message or campaign can be
-- archived, hidden from the lists by default. Additive only.

ALTER TABLE messages ADD COLUMN blocks TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN archived_at {{TIME}};
ALTER TABLE campaigns ADD COLUMN archived_at {{TIME}};
