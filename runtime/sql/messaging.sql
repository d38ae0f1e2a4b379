-- Inbox and outbox shared by every service that consumes and produces (included by each service's
-- first migration; the tables live in the service's own schema).
CREATE TABLE IF NOT EXISTS inbox (
    event_id    text PRIMARY KEY,          -- ce_id of a consumed event: processed at most once
    topic       text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS outbox (
    id          bigserial PRIMARY KEY,     -- publication order (per-case order follows from it)
    event_id    text NOT NULL UNIQUE,
    topic       text NOT NULL,
    key         bytea NOT NULL,
    value       bytea NOT NULL,
    headers     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
