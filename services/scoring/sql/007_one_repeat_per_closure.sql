-- 重复投诉 per closure (issue 10): a repeat complaint was one fact per (closure, later case) pair, so one
-- closure followed by three complaints counted 3 and 重复投诉率 passed 100 % at a year's density (57 M facts).
-- Now at most one fact per closure, `RPT-{closure}`, tagged with the whole days to the NEAREST later case;
-- the closure remembers that case's time, so a nearer one arriving later corrects the fact and a farther
-- one is not looked up.
ALTER TABLE closures ADD COLUMN repeat_at timestamptz;
UPDATE closures c SET repeat_at = (
    SELECT min(o.opened_at) FROM openings o
    WHERE o.item_code = c.item_code AND o.grid_id = c.grid_id AND o.case_id <> c.case_id
      AND o.opened_at > c.closed_at AND o.opened_at <= c.closed_at + interval '90 days');

-- The ledger and its running sums: the pairs' facts give way to one per closure, counted for its handler
-- and the closed case's places (as `BatchTally.add` attributes them); the affected cards are recomputed.
-- (An entity's `as_of` is left as it is: the new fact's time is the closure's, already among its facts.)
DELETE FROM facts WHERE fact = 'repeat_complaint';
INSERT INTO facts (event_id, ordinal, case_id, period, fact, tag, value, department, worker, at, traceparent)
SELECT 'RPT-' || case_id, 0, case_id, period, 'repeat_complaint',
       extract(day FROM repeat_at - closed_at)::int::text, 1, department, NULL, closed_at, NULL
FROM closures WHERE repeat_at IS NOT NULL;
CREATE TEMPORARY TABLE repeat_tallies ON COMMIT DROP AS
SELECT f.period, e.entity_type, e.entity_id, f.tag, count(*) AS n
FROM facts f JOIN cases c ON c.case_id = f.case_id
CROSS JOIN LATERAL (VALUES ('department', f.department), ('grid', c.grid_id), ('community', c.community_id),
                           ('street', c.street_id), ('hotline', CASE WHEN c.channel = 'hotline' THEN '12345' END))
    AS e(entity_type, entity_id)
WHERE f.fact = 'repeat_complaint' AND e.entity_id IS NOT NULL
GROUP BY 1, 2, 3, 4;
INSERT INTO dirty (period, entity_type, entity_id)
SELECT DISTINCT period, entity_type, entity_id FROM tallies WHERE fact = 'repeat_complaint'
UNION SELECT period, entity_type, entity_id FROM repeat_tallies;
DELETE FROM tallies WHERE fact = 'repeat_complaint';
INSERT INTO tallies (period, entity_type, entity_id, fact, tag, n, total)
SELECT period, entity_type, entity_id, 'repeat_complaint', tag, n, n FROM repeat_tallies;
