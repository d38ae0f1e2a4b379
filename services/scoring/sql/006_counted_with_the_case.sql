-- Speed (issue 10; profile /tmp/s4a, docs/benchmarks.md): the distinct cases behind an entity's facts were
-- one `entity_cases` row per (period, entity, case), inserted for every batch — the heaviest statement of a
-- replay at a year's density. The case's own row, locked and rewritten by every batch that touches it,
-- now remembers where it is counted already: [[period, entity type, entity id], …].
ALTER TABLE cases ADD COLUMN counted jsonb NOT NULL DEFAULT '[]';
UPDATE cases c SET counted = e.counted
FROM (SELECT case_id, jsonb_agg(jsonb_build_array(period, entity_type, entity_id)
                                ORDER BY period, entity_type, entity_id) AS counted
      FROM entity_cases GROUP BY case_id) e
WHERE e.case_id = c.case_id;
DROP TABLE entity_cases;

-- Rows rewritten by nearly every batch (a case, an entity's sums) keep room on their page for the new
-- version, so the update is HOT and no index entry is added for it.
ALTER TABLE cases SET (fillfactor = 70);
ALTER TABLE tallies SET (fillfactor = 70);
ALTER TABLE entities SET (fillfactor = 70);
