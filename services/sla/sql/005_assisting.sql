-- 协办: the assisting departments of the lead's case (assignment.assisting), kept on each stage so the
-- centre's views find a case by an assisting department; the clock, owner and ladder stay the lead's.
ALTER TABLE deadlines ADD COLUMN assisting text[] NOT NULL DEFAULT '{}';
CREATE INDEX deadlines_assisting ON deadlines USING gin (assisting) WHERE state IN ('running', 'paused', 'overdue');
