"""Identifiers that stay the same across retries."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from schemas.common import Channel

_PREFIX = {Channel.HOTLINE: "HL", Channel.GRID: "GR", Channel.WECHAT: "WX", Channel.OPEN311: "OS"}


def incident_id(channel: Channel, natural_id: str) -> str:
    """Derived from the natural id, so concurrent duplicates compute the same id before any lock."""
    digest = hashlib.blake2b(f"{channel.value}:{natural_id}".encode(), digest_size=8).hexdigest().upper()
    return f"{_PREFIX[channel]}-{digest}"


def mini_program_natural_id(account: str, request_id: str) -> str:
    """`{account}:mp:{request_id}`: the `mp:` keeps a numeric request id apart from a pushed message's
    `{account}:{MsgId}` in the same (wechat) ledger, so neither can take the other's incident."""
    return f"{account}:mp:{request_id}"


def body_hash(body: Any) -> str:
    """A stable hash of a request's meaningful content (detects the same id reused for another body)."""
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


MODEL_HASH = "v2:"


def request_hash(request: BaseModel) -> str:
    """`v2:` + SHA-256 of the validated request's JSON as pydantic serialises it (fields in declaration
    order, so nothing to sort): the same content hashes the same whatever the key order or whitespace.
    About half the cost of `body_hash` of its `model_dump` (no Python JSON encoder, no sort)."""
    return MODEL_HASH + hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def same_request(stored: str, hashed: str, request: BaseModel | None) -> bool:
    """Does a ledger row's hash name this request (`hashed` = its `request_hash`)? Rows written before
    `request_hash` hold `body_hash(request.model_dump(mode="json"))` (no prefix): those are compared the
    old way, so a retry of a ticket accepted before the change is still a duplicate, not a conflict."""
    if stored == hashed:
        return True
    return request is not None and not stored.startswith(MODEL_HASH) and stored == body_hash(
        request.model_dump(mode="json"))
