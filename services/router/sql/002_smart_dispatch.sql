-- Smart dispatch (issue 8): the model version beside the list version, and the assisting departments
-- (协办) beside the lead owner (主办); a department's backlog lists the cases it assists too.
ALTER TABLE cases ADD COLUMN model_version text;
ALTER TABLE cases ADD COLUMN assisting jsonb NOT NULL DEFAULT '[]';
CREATE INDEX cases_assisting ON cases USING gin (assisting);
