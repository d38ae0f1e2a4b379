-- Open311 GeoReport v2 GET requests.json (docs: services/intake/README.md, "Open311"):
-- the requests as the citizen sent them (no phone, no e-mail, no name) …
CREATE TABLE open311_requests (
    service_request_id text PRIMARY KEY,          -- the incident id (OS-…)
    case_id            text NOT NULL UNIQUE,      -- C-<incident id>: the router's case
    service_code       text NOT NULL,
    service_name       text NOT NULL,
    description        text,                      -- scrubbed (phone numbers masked)
    lat                double precision,
    long               double precision,
    address            text,
    media_url          text,
    requested_at       timestamptz NOT NULL
);
CREATE INDEX open311_requests_requested ON open311_requests (requested_at);
CREATE INDEX open311_requests_service ON open311_requests (service_code, requested_at);

-- … and the case's state as case.events.v1 and sla.events.v1 tell it (intake's own read model).
CREATE TABLE open311_status (
    case_id      text PRIMARY KEY,
    seq          integer NOT NULL DEFAULT 0,       -- last case event applied (stale ones are ignored)
    state        text,
    owner        text,
    owner_unit   text,
    notes        text,                             -- from the latest public step
    updated_at   timestamptz,
    expected_at  timestamptz                       -- the SLA deadline of the open stage
);

CREATE TABLE IF NOT EXISTS inbox (
    event_id     text PRIMARY KEY,
    topic        text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
