-- The console's read model (console owns it), folded from case.events.v1 and sla.events.v1, plus its
-- sessions and the audit of every action taken from the console.
CREATE TABLE cases (
    case_id      text PRIMARY KEY,
    seq          integer NOT NULL,            -- last case event applied; older ones are stale
    state        text NOT NULL,
    channel      text,
    urgency      text NOT NULL DEFAULT 'normal',
    item_code    text,
    item_name    text,
    owner        text,
    owner_unit   text,
    level        text,
    grid_id      text,
    community_id text,
    street_id    text,
    lon          double precision,
    lat          double precision,
    opened_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    closed_at    timestamptz
);
CREATE INDEX cases_open ON cases (opened_at) WHERE closed_at IS NULL;
CREATE INDEX cases_item_opened ON cases (item_code, opened_at);

CREATE TABLE clocks (
    case_id     text PRIMARY KEY,
    lateness    text NOT NULL DEFAULT 'on_time',   -- on_time | warned | overdue
    due_at      timestamptz,
    rung        text,                              -- highest level an escalation decision reached
    escalations integer NOT NULL DEFAULT 0
);

-- 两函一单: one row per escalation decision, printable from the case page.
CREATE TABLE documents (
    event_id   text PRIMARY KEY,
    case_id    text NOT NULL,
    document   text NOT NULL,     -- risk_warning_letter | accountability_letter | supervision_order
    to_level   text,
    owner      text,
    reason     text,
    at         timestamptz NOT NULL
);
CREATE INDEX documents_case ON documents (case_id, at);

CREATE TABLE sessions (
    token_hash  text PRIMARY KEY,  -- sha256 of the cookie's token
    username    text NOT NULL,
    csrf        text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

CREATE TABLE audit (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL,
    username   text NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,      -- login | logout | login_failed | dispatch | arbitrate | …
    case_id    text,
    detail     jsonb NOT NULL DEFAULT '{}',
    outcome    text NOT NULL       -- accepted | refused: <reason> | failed: <status>
);
CREATE INDEX audit_case ON audit (case_id, at);
