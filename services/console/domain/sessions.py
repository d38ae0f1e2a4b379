"""Sessions and CSRF tokens: random tokens; only their hashes are stored, so a leaked table opens nothing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the HttpOnly cookie
    token_hash: str  # stored
    csrf: str  # sent by the page in X-CSRF-Token on every state-changing request
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(now: datetime, hours: float) -> NewSession:
    token = secrets.token_urlsafe(32)
    return NewSession(token, token_hash(token), secrets.token_urlsafe(24), now + timedelta(hours=hours))


def csrf_ok(expected: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(expected.encode(), (sent or "").encode())
