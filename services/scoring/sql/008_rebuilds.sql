-- Replay into an empty database by rebuild (issue 10, `python -m services.scoring rebuild`): the state is
-- bulk-written in one transaction with the offsets of the records it folded, per partition; the consumer
-- group is committed there after it, so the ordinary consumer continues from exactly that boundary.
CREATE TABLE rebuilds (
    topic        text NOT NULL,
    partition    integer NOT NULL,
    next_offset  bigint NOT NULL,           -- the first record the rebuild did NOT fold
    rebuilt_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);
