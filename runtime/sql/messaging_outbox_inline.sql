-- Outbox rows stay inline and uncompressed up to a page (8160 bytes): a case event's body is ~2.1 kB, just
-- over the default 2 kB threshold, so most rows were pglz-compressed on insert and decompressed again by the
-- relay's read moments later. Measured on 1,000 router rows (docs/benchmarks.md): the batch insert
-- 45 → 19 ms (median of 7). The price is space: sent rows are kept, ≈ 1.5× larger than compressed.
ALTER TABLE outbox SET (toast_tuple_target = 8160);
