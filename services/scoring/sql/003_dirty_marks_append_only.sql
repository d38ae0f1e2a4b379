-- Dirty marks are appended, never updated: consumers marking the same card (a busy department) no
-- longer wait on each other's row locks nor on the publisher's DELETE of the marks it has seen.
ALTER TABLE dirty DROP CONSTRAINT dirty_pkey;
CREATE INDEX dirty_by_group ON dirty (period, entity_type, mark);
