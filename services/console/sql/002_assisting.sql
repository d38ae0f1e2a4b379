-- 协办: the assisting departments of a case (assignment.assisting), so they see it in the lists and the map.
ALTER TABLE cases ADD COLUMN assisting text[] NOT NULL DEFAULT '{}';
CREATE INDEX cases_assisting ON cases USING gin (assisting) WHERE closed_at IS NULL;
