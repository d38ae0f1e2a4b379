-- SLA state (sla owns it): what sla remembers per case, and one durable clock per case stage.
CREATE TABLE sla_cases (
    case_id     text PRIMARY KEY,
    last_seq    integer NOT NULL DEFAULT 0,   -- case events at or below it are stale
    escalations integer NOT NULL DEFAULT 0,   -- decisions so far: picks the document (两函一单)
    next_gen    integer NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE deadlines (
    case_id     text NOT NULL REFERENCES sla_cases (case_id),
    gen         integer NOT NULL,             -- stage number within the case
    rev         integer NOT NULL,             -- bumped whenever due_at is set again (event ids use it)
    stage       text NOT NULL,                -- accept (签收) | handle (办结)
    state       text NOT NULL,                -- running | paused | overdue | met | late | superseded
    limit_text  text NOT NULL,
    working     boolean NOT NULL,             -- counts working time on the calendar
    started_at  timestamptz NOT NULL,
    allowed_s   double precision NOT NULL,    -- the stage's whole time on its clock, seconds
    due_at      timestamptz,
    warn_at     timestamptz,
    warned      boolean NOT NULL DEFAULT false,
    remaining_s double precision,             -- while paused
    owner       text,
    owner_unit  text,
    level       text,
    street_id   text,
    ladder      jsonb NOT NULL DEFAULT '[]',
    ended_at    timestamptz,
    PRIMARY KEY (case_id, gen)
);
-- At most one open stage per case; the timer reads running rows by due/warn time.
CREATE UNIQUE INDEX deadlines_one_open ON deadlines (case_id) WHERE state IN ('running', 'paused', 'overdue');
CREATE INDEX deadlines_due ON deadlines (due_at) WHERE state = 'running';
CREATE INDEX deadlines_warn ON deadlines (warn_at) WHERE state = 'running' AND NOT warned;
CREATE INDEX deadlines_overdue ON deadlines (level, owner, street_id) WHERE state = 'overdue';
