-- Every attempt to read the callback vault is logged with its outcome, in the transaction that read the row
-- (Gateway.reveal_contact, ADR 010): `revealed` (the contact was handed out), `unreadable` (the row does not
-- open: another key, another ref's ciphertext, altered or truncated; nothing was handed out) or `absent` (no
-- row for that ref). Rows logged before this column were reads of a row that existed, opened after the log
-- was committed: whether it opened is not known (NULL).
ALTER TABLE contact_access_log ADD COLUMN outcome text CHECK (outcome IN ('revealed', 'unreadable', 'absent'));
