-- WeChat pairing (docs/adr/003-wechat-pairing.md): each stored push has a state and the reply it got.
--   lead (text/image/voice): waiting → ready (location attached, or window passed) → published
--   location / picture:      waiting (location only) → attached | expired
ALTER TABLE wechat_pending
    ADD COLUMN state        text NOT NULL DEFAULT 'waiting'
        CHECK (state IN ('waiting', 'ready', 'published', 'attached', 'expired')),
    ADD COLUMN reply        text NOT NULL DEFAULT '',
    ADD COLUMN published_at timestamptz;
CREATE INDEX wechat_pending_waiting ON wechat_pending (account, openid, received_at) WHERE state = 'waiting';
CREATE INDEX wechat_pending_due ON wechat_pending (received_at) WHERE state IN ('waiting', 'ready');
