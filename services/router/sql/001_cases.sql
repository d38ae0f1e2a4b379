-- The case record (router owns it) and its timeline (一哨一档: one file per whistle).
CREATE TABLE cases (
    case_id        text PRIMARY KEY,
    incident_id    text NOT NULL UNIQUE,
    channel        text NOT NULL,
    state          text NOT NULL,
    seq            integer NOT NULL DEFAULT 0,
    item_code      text,
    item_name      text,
    list_version   text,
    owner          text,
    owner_unit     text,
    level          text,
    grid_id        text,
    grid_worker    text,
    community_id   text,
    street_id      text,
    lon            double precision,
    lat            double precision,
    text           text NOT NULL,
    urgency        text NOT NULL,
    citizen        boolean NOT NULL,
    returns        integer NOT NULL DEFAULT 0,
    candidates     jsonb NOT NULL DEFAULT '[]',   -- remaining owners to try after a return (退单)
    tried          jsonb NOT NULL DEFAULT '[]',   -- owners that already had it
    escalation     jsonb NOT NULL DEFAULT '[]',   -- the item's ladder
    deadlines      jsonb,
    explanation    jsonb,
    state_before_suspension text,
    requested_extension_hours integer,
    reporters      jsonb NOT NULL DEFAULT '[]',   -- every reporter stays on the case (callbacks)
    merged_count   integer NOT NULL DEFAULT 0,
    opened_at      timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    closed_at      timestamptz
);
CREATE INDEX cases_open_by_item ON cases (item_code, opened_at) WHERE closed_at IS NULL;
CREATE INDEX cases_state ON cases (state);

CREATE TABLE case_events (
    case_id   text NOT NULL REFERENCES cases (case_id),
    seq       integer NOT NULL,
    event_id  text NOT NULL UNIQUE,
    kind      text NOT NULL,
    state     text NOT NULL,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    reason    text,
    body      jsonb NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Incidents folded into an open case (重复件): incident id → the case that absorbed it.
CREATE TABLE merged_incidents (
    incident_id text PRIMARY KEY,
    case_id     text NOT NULL REFERENCES cases (case_id),
    at          timestamptz NOT NULL
);
