-- Idempotency ledger: one row per natural id; the incident id a retry gets back.
CREATE TABLE submissions (
    channel      text NOT NULL,
    natural_id   text NOT NULL,
    incident_id  text NOT NULL UNIQUE,
    body_hash    text NOT NULL,
    topic        text NOT NULL,
    published_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, natural_id)
);

-- Callback vault: full contacts, encrypted, readable only through the `callback` purpose.
CREATE TABLE contact_vault (
    contact_ref  text PRIMARY KEY,
    incident_id  text NOT NULL,
    purpose      text NOT NULL DEFAULT 'callback',
    ciphertext   bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE contact_access_log (
    id           bigserial PRIMARY KEY,
    contact_ref  text NOT NULL,
    purpose      text NOT NULL,
    accessor     text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);

-- WeChat: a citizen's text waiting for a location (or the reverse) to form one incident.
CREATE TABLE wechat_pending (
    account      text NOT NULL,
    openid       text NOT NULL,
    msg_id       text NOT NULL,
    kind         text NOT NULL,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL,
    incident_id  text,
    PRIMARY KEY (account, openid, msg_id)
);
CREATE INDEX wechat_pending_open ON wechat_pending (account, openid, received_at) WHERE incident_id IS NULL;
