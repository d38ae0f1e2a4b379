-- Scoring's ledger: per-case context, one row per fact (derived from exactly one event, inbox-guarded),
-- dirty marks for cards to recompute, and the last published card per key.
CREATE TABLE cases (
    case_id          text PRIMARY KEY,
    reported_period  text,            -- YYYY-MM (Asia/Shanghai) of `created`: report outcomes count there
    reporter         text,            -- reporting grid worker, when one did
    level            text,            -- handling level at creation (difficulty)
    grid_id          text,
    community_id     text,
    street_id        text,
    resolved_at      timestamptz
);
CREATE INDEX cases_community ON cases (community_id) WHERE community_id IS NOT NULL;
CREATE INDEX cases_street ON cases (street_id) WHERE street_id IS NOT NULL;

CREATE TABLE facts (
    event_id    text NOT NULL,        -- ce_id of the event it came from
    ordinal     smallint NOT NULL,    -- its position among that event's facts
    case_id     text NOT NULL,
    period      text NOT NULL,
    fact        text NOT NULL,
    tag         text NOT NULL DEFAULT '',
    value       numeric NOT NULL,     -- exact: 1 for counts, satisfaction 1..5, elapsed seconds
    department  text,                 -- the owner it counts for, when a department
    worker      text,                 -- the grid worker it counts for
    PRIMARY KEY (event_id, ordinal)
);
CREATE INDEX facts_period_department ON facts (period, department) WHERE department IS NOT NULL;
CREATE INDEX facts_period_worker ON facts (period, worker) WHERE worker IS NOT NULL;
CREATE INDEX facts_period_case ON facts (period, case_id);
CREATE INDEX facts_case ON facts (case_id);

CREATE SEQUENCE dirty_mark;
CREATE TABLE dirty (
    period       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text NOT NULL,       -- '*' marks a whole entity type (a new ruler)
    mark         bigint NOT NULL DEFAULT nextval('dirty_mark'),
    PRIMARY KEY (period, entity_type, entity_id)
);

CREATE TABLE cards (
    key            text PRIMARY KEY,  -- {period}:{entity_type}:{entity_id}
    period         text NOT NULL,
    entity_type    text NOT NULL,
    entity_id      text NOT NULL,
    ruler_version  text NOT NULL,
    content_hash   text NOT NULL,
    revision       integer NOT NULL,  -- publications of this key so far
    rank           integer,
    total          numeric NOT NULL,
    body           jsonb NOT NULL,
    computed_at    timestamptz NOT NULL
);
CREATE INDEX cards_by_period ON cards (period, entity_type, rank, entity_id);
