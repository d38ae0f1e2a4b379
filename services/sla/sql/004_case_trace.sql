-- The trace context of the last case event applied: events the timer fires later continue that trace.
ALTER TABLE sla_cases ADD COLUMN traceparent text, ADD COLUMN tracestate text;
