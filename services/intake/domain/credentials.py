"""Credential checks for publishing systems and grid workers (pure; the HTTP layer calls these)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class Denied:
    status: int  # 401 unknown/invalid credential, 403 valid but not allowed here
    reason: str


def check_api_key(sources: dict[str, str], presented: str) -> str | Denied:
    """Returns the source name whose key matches (constant-time compare)."""
    for name, secret in sources.items():
        if hmac.compare_digest(secret.encode(), presented.encode()):
            return name
    return Denied(401, "unknown API key")


def sign_body(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def check_signature(
    sources: dict[str, str], source: str, header: str, body: bytes, now: int, window: int
) -> str | Denied:
    """`X-Gridline-Signature: t=<unix>,v1=<hex>` over `<t>.<body>`; refused outside ±window seconds."""
    secret = sources.get(source)
    if secret is None:
        return Denied(401, f"unknown source {source!r}")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return Denied(401, "signature header needs t=<unix seconds>,v1=<hex>")
    if abs(now - timestamp) > window:
        return Denied(401, "signature timestamp outside the allowed window (replay?)")
    expected = sign_body(secret, timestamp, body).split("v1=")[1]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        return Denied(401, "bad signature")
    return source


def issue_worker_token(secret: str, worker_id: str) -> str:
    """A bearer token bound to one grid worker id (`gw1.<id>.<mac>`), issued by the app's back office."""
    mac = hmac.new(secret.encode(), f"gw1.{worker_id}".encode(), hashlib.sha256).digest()
    return f"gw1.{worker_id}.{base64.urlsafe_b64encode(mac[:18]).decode()}"


def check_worker_token(secret: str, token: str) -> str | Denied:
    """Returns the worker id the token is bound to."""
    try:
        version, worker_id, _ = token.split(".", 2)
    except ValueError:
        return Denied(401, "malformed worker token")
    if version != "gw1" or not hmac.compare_digest(issue_worker_token(secret, worker_id), token):
        return Denied(401, "invalid worker token")
    return worker_id
