-- Speed (issue 10): cards are computed from running sums kept per entity, updated once per poll batch in
-- the batch's transaction, instead of a GROUP BY over a whole month's facts (joined to the cases) each
-- time a card is recomputed. `facts` stays the ledger (replays, a case located late, audits).

-- Per (period, entity, fact, tag): how many facts and their exact sum — what formulas read.
CREATE TABLE tallies (
    period       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text NOT NULL,
    fact         text NOT NULL,
    tag          text NOT NULL,
    n            bigint NOT NULL,
    total        numeric NOT NULL,
    PRIMARY KEY (period, entity_type, entity_id, fact, tag)
);

-- Per (period, entity): what a card shows besides its indicators, and the span links of its record.
CREATE TABLE entities (
    period         text NOT NULL,
    entity_type    text NOT NULL,
    entity_id      text NOT NULL,
    parent_id      text,                   -- least parent among its cases (grid → community → street)
    as_of          timestamptz,            -- latest event time among its facts: the card's computed_at
    cases_counted  integer NOT NULL DEFAULT 0,
    links          jsonb NOT NULL DEFAULT '[]',  -- latest 16 [time, event id, traceparent], newest first
    PRIMARY KEY (period, entity_type, entity_id)
);

-- The distinct cases behind each entity's facts (cases_counted counts the rows inserted).
CREATE TABLE entity_cases (
    period       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text NOT NULL,
    case_id      text NOT NULL,
    PRIMARY KEY (period, entity_type, entity_id, case_id)
);

-- The number of the entity's facts the card's ruler reads (part of its ce_id): a card re-ranked without
-- new facts keeps it, so only the changed entities' cards are recomputed.
ALTER TABLE cards ADD COLUMN facts_read integer;

-- Backfill from the ledger, attributing each fact exactly as the card computation did before this
-- migration (places and the hotline through the case; the centre's and 协办 facts are not the place's).
CREATE TEMPORARY TABLE attributed ON COMMIT DROP AS
WITH joined AS (
    SELECT f.period, f.case_id, f.fact, f.tag, f.value, f.at, f.event_id, f.traceparent, f.department, f.worker,
           c.grid_id, c.community_id, c.street_id, c.channel,
           (f.department IS NULL OR (f.department <> 'CENTER' AND f.fact <> 'assisted')) AS place_fact
    FROM facts f LEFT JOIN cases c ON c.case_id = f.case_id
), keyed AS (
    SELECT 'department' AS entity_type, department AS entity_id, NULL::text AS parent_id, j.* FROM joined j
        WHERE department IS NOT NULL AND department <> 'CENTER' AND fact <> 'assisted'
    UNION ALL SELECT 'assisting_department', department, NULL, j.* FROM joined j
        WHERE department IS NOT NULL AND fact = 'assisted'
    UNION ALL SELECT 'center', department, NULL, j.* FROM joined j WHERE department = 'CENTER'
    UNION ALL SELECT 'grid_worker', worker, NULL, j.* FROM joined j WHERE worker IS NOT NULL
    UNION ALL SELECT 'grid', grid_id, community_id, j.* FROM joined j WHERE grid_id IS NOT NULL AND place_fact
    UNION ALL SELECT 'community', community_id, street_id, j.* FROM joined j
        WHERE community_id IS NOT NULL AND place_fact
    UNION ALL SELECT 'street', street_id, NULL, j.* FROM joined j WHERE street_id IS NOT NULL AND place_fact
    UNION ALL SELECT 'hotline', '12345', NULL, j.* FROM joined j WHERE channel = 'hotline' AND place_fact
)
SELECT period, entity_type, entity_id, parent_id, case_id, fact, tag, value, at, event_id, traceparent FROM keyed;

INSERT INTO tallies (period, entity_type, entity_id, fact, tag, n, total)
SELECT period, entity_type, entity_id, fact, tag, count(*), sum(value) FROM attributed GROUP BY 1, 2, 3, 4, 5;

INSERT INTO entity_cases (period, entity_type, entity_id, case_id)
SELECT DISTINCT period, entity_type, entity_id, case_id FROM attributed;

INSERT INTO entities (period, entity_type, entity_id, parent_id, as_of, cases_counted, links)
SELECT a.period, a.entity_type, a.entity_id, min(a.parent_id), max(a.at), count(DISTINCT a.case_id),
       coalesce((SELECT jsonb_agg(jsonb_build_array(l.sort_at, l.event_id, l.traceparent) ORDER BY l.sort_at DESC,
                                  l.event_id)
                 FROM (SELECT coalesce(to_char(b.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '')
                              AS sort_at, b.event_id, b.traceparent
                       FROM attributed b WHERE (b.period, b.entity_type, b.entity_id) = (a.period, a.entity_type,
                       a.entity_id) AND b.traceparent IS NOT NULL
                       ORDER BY 1 DESC, 2 LIMIT 16) l), '[]'::jsonb)
FROM attributed a GROUP BY 1, 2, 3;

-- Every stored card is recomputed once from the sums (and gets its facts_read).
INSERT INTO dirty (period, entity_type, entity_id) SELECT DISTINCT period, entity_type, '*' FROM cards;
ALTER TABLE outbox ALTER COLUMN value DROP NOT NULL;  -- tombstones: a key no longer scored
CREATE INDEX cases_grid ON cases (grid_id) WHERE grid_id IS NOT NULL;  -- a case that moved: its old grid recomputed
