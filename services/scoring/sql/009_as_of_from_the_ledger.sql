-- An entity's `as_of` (its card's computed_at: the latest time among its facts) after 007 (issue 10). Before
-- 007 a repeat complaint was a fact per (closure, later case) `at` the later case's time, so the as_of of the
-- closure's department and places (and the hotline) could be a case opened up to 90 days after the closure;
-- 007 moved the fact to the closure's time but left as_of as it was, so those cards kept a computed_at no
-- replay gives. Recompute it from the ledger for the entities that count repeat complaints, attributing the
-- facts as `facts.attribute` does; only an as_of later than every fact it has now is lowered (one that is
-- right is never touched), and the card is marked for the publisher.
CREATE TEMPORARY TABLE latest_facts ON COMMIT DROP AS
SELECT f.period, e.entity_type, e.entity_id, max(f.at) AS at
FROM facts f LEFT JOIN cases c ON c.case_id = f.case_id
CROSS JOIN LATERAL (SELECT f.department IS NULL OR (f.department <> 'CENTER' AND f.fact <> 'assisted')) AS p(here)
CROSS JOIN LATERAL (VALUES
    ('department', CASE WHEN f.department <> 'CENTER' AND f.fact <> 'assisted' THEN f.department END),
    ('grid', CASE WHEN p.here THEN c.grid_id END),
    ('community', CASE WHEN p.here THEN c.community_id END),
    ('street', CASE WHEN p.here THEN c.street_id END),
    ('hotline', CASE WHEN p.here AND c.channel = 'hotline' THEN '12345' END)) AS e(entity_type, entity_id)
WHERE e.entity_id IS NOT NULL AND f.at IS NOT NULL
GROUP BY 1, 2, 3;
WITH lowered AS (
    UPDATE entities e SET as_of = l.at FROM latest_facts l
    WHERE e.period = l.period AND e.entity_type = l.entity_type AND e.entity_id = l.entity_id
      AND e.as_of > l.at
      AND EXISTS (SELECT 1 FROM tallies t WHERE t.period = e.period AND t.entity_type = e.entity_type
                  AND t.entity_id = e.entity_id AND t.fact = 'repeat_complaint')
    RETURNING e.period, e.entity_type, e.entity_id)
INSERT INTO dirty (period, entity_type, entity_id) SELECT * FROM lowered;
