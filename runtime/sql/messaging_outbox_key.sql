-- The last record of a key (its trace context, for records written outside any trace: sla's timer).
CREATE INDEX IF NOT EXISTS outbox_key ON outbox (key, id);
