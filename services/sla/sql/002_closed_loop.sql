-- Issue 9: several warnings per stage, breaches that an extension does not undo, the rung a stage runs
-- on, provisional deadlines, the places the centre filters by, and the two reasons a clock pauses.
ALTER TABLE deadlines
    ADD COLUMN warnings     integer NOT NULL DEFAULT 0,     -- warning shares fired so far
    ADD COLUMN breached     boolean NOT NULL DEFAULT false, -- passed its deadline once
    ADD COLUMN rung         integer NOT NULL DEFAULT 0,     -- the case's escalations when the stage started
    ADD COLUMN provisional  boolean NOT NULL DEFAULT false, -- reaches into a year without official data
    ADD COLUMN community_id text,
    ADD COLUMN run_from     timestamptz,                    -- the clock last (re)started here …
    ADD COLUMN run_for_s    double precision;               -- … with this much to run (seconds)
ALTER TABLE sla_cases
    ADD COLUMN suspended         boolean NOT NULL DEFAULT false,
    ADD COLUMN extension_pending boolean NOT NULL DEFAULT false;

-- The centre's views: open stages on the overdue list (breached, or on an escalated rung) and running
-- ones by due time (due-soon); provisional deadlines are found again when the calendar data arrives.
DROP INDEX IF EXISTS deadlines_overdue;
CREATE INDEX deadlines_listed ON deadlines (due_at)
    WHERE state = 'overdue' OR (state IN ('running', 'paused') AND rung > 0);
CREATE INDEX deadlines_provisional ON deadlines (case_id) WHERE provisional AND state IN ('running', 'paused');

-- 两函一单: the formal documents, numbered per district, year and kind (督办单 / 警示函 / 问责建议函).
CREATE TABLE document_counters (
    district text NOT NULL,
    year     integer NOT NULL,
    kind     text NOT NULL,
    last_no  integer NOT NULL,
    PRIMARY KEY (district, year, kind)
);
CREATE TABLE documents (
    doc_no     text PRIMARY KEY,              -- e.g. 通江督〔2026〕7号
    district   text NOT NULL,
    year       integer NOT NULL,
    kind       text NOT NULL,                 -- supervision_order | risk_warning_letter | accountability_letter
    serial     integer NOT NULL,
    case_id    text NOT NULL,
    decision   text NOT NULL UNIQUE,          -- the escalation_decided event id: one document per decision
    addressee  text,
    issued_at  timestamptz NOT NULL,
    text_body  text NOT NULL,
    html       text NOT NULL,
    UNIQUE (district, year, kind, serial)
);
CREATE INDEX documents_case ON documents (case_id, issued_at);
