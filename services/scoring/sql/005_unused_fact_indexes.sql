-- Cards are computed from the running sums now (004), never from facts by period and entity: these
-- indexes only cost every batch's insert. The ledger keeps its key and the per-case index (a case
-- located late or moved reads its facts).
DROP INDEX IF EXISTS facts_period_department;
DROP INDEX IF EXISTS facts_period_worker;
DROP INDEX IF EXISTS facts_period_case;
