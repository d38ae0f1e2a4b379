-- Documents are fetched by an ASCII id (TJ-2026-DB-0007); the printed number stays unique beside it.
ALTER TABLE documents DROP CONSTRAINT documents_pkey;
ALTER TABLE documents ADD COLUMN doc_id text;
ALTER TABLE documents ADD PRIMARY KEY (doc_id);
ALTER TABLE documents ADD CONSTRAINT documents_doc_no_key UNIQUE (doc_no);
