"""The top candidates of a case for the operator: item, owner, score and why (keywords, conditions).

They come from the router's routing explanation; a newer router may publish `candidates` beside it,
which win when present."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def top_candidates(case: Mapping[str, Any], items: Mapping[str, Mapping[str, Any]], limit: int = 3
                   ) -> list[dict[str, Any]]:
    raw = case.get("candidates")
    if not isinstance(raw, list) or not raw:
        explanation = case.get("explanation") or {}
        raw = (explanation.get("classification") or {}).get("candidates") or []
    out: list[dict[str, Any]] = []
    for c in raw[:limit]:
        if not isinstance(c, Mapping) or not c.get("item_code"):
            continue
        item = items.get(str(c["item_code"]), {})
        out.append({
            "item_code": c["item_code"], "item_name": c.get("item_name") or item.get("service_name"),
            "owner": c.get("owner") or item.get("agency"), "score": c.get("score"),
            "why": c.get("why") or _why(c),
        })
    return out


def _why(c: Mapping[str, Any]) -> str:
    parts = []
    if c.get("matched_keywords"):
        parts.append("关键词 keywords: " + "、".join(map(str, c["matched_keywords"])))
    if c.get("conditions"):
        parts.append("条件 conditions: " + ", ".join(map(str, c["conditions"])))
    return "; ".join(parts) or "—"
