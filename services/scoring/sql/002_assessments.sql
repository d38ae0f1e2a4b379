-- Indicators as assessments define them (ruler 2026.12-1), byte-identical replay, ruler versions side by side.
ALTER TABLE facts ADD COLUMN at timestamptz;             -- when its event happened: a card's `computed_at`
ALTER TABLE facts ADD COLUMN traceparent text;           -- its event's trace: cards link to the spans that fed them
ALTER TABLE cases ADD COLUMN channel text;               -- the hotline's card counts hotline cases
ALTER TABLE cases ADD COLUMN item_code text;             -- repeat complaints: same item ...
ALTER TABLE cases ADD COLUMN handled_by text;            -- ... counted for the department that resolved it
ALTER TABLE cases ADD COLUMN escalated boolean NOT NULL DEFAULT false;

-- Both halves of a repeat complaint (重复投诉), whichever arrives first: closures and openings by item and grid.
CREATE TABLE closures (
    case_id     text PRIMARY KEY,
    item_code   text NOT NULL,
    grid_id     text NOT NULL,
    closed_at   timestamptz NOT NULL,
    period      text NOT NULL,
    department  text
);
CREATE INDEX closures_by_place ON closures (item_code, grid_id, closed_at);
CREATE TABLE openings (
    case_id     text PRIMARY KEY,
    item_code   text NOT NULL,
    grid_id     text NOT NULL,
    opened_at   timestamptz NOT NULL
);
CREATE INDEX openings_by_place ON openings (item_code, grid_id, opened_at);

-- Cards are keyed `{period}:{entity_type}:{entity_id}@{ruler_version}` now: every version in effect for a
-- month has its own. The old cards (keys without a version) are recomputed under the new keys at start.
DELETE FROM cards;
ALTER TABLE cards DROP COLUMN computed_at;
ALTER TABLE cards ADD COLUMN parent_id text;
ALTER TABLE cards ADD COLUMN event_id text NOT NULL;     -- ce_id of its last publication (content + facts read)
DROP INDEX cards_by_period;
CREATE INDEX cards_by_period ON cards (period, ruler_version, entity_type, parent_id, rank, entity_id);
