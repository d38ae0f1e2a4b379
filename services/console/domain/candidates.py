"""The top candidates of a case for the operator: item, owner, score and why (keywords, conditions).

They come from the router's routing explanation; a newer router may publish `candidates` beside it,
which win when present."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def top_candidates(case: Mapping[str, Any], items: Mapping[str, Mapping[str, Any]], limit: int = 3
                   ) -> list[dict[str, Any]]:
    classification = (case.get("explanation") or {}).get("classification") or {}
    raw = case.get("candidates")
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], Mapping):
        raw = classification.get("candidates") or []
    out: list[dict[str, Any]] = []
    for rank, c in enumerate(raw[:limit]):
        if not isinstance(c, Mapping) or not c.get("item_code"):
            continue
        item = items.get(str(c["item_code"]), {})
        out.append({
            "item_code": c["item_code"], "item_name": c.get("item_name") or item.get("service_name"),
            "owner": c.get("owner") or item.get("agency"), "score": c.get("score"),
            "why": c.get("why") or _why(c, classification if rank == 0 else {}),
        })
    return out


def _why(c: Mapping[str, Any], model: Mapping[str, Any]) -> str:
    """Keywords and conditions of each candidate; for the top one also the learned model's strongest
    features and its nearest labelled example, when the router's model explained itself."""
    parts = []
    if c.get("matched_keywords"):
        parts.append("关键词 keywords: " + "、".join(map(str, c["matched_keywords"])))
    if c.get("conditions"):
        parts.append("条件 conditions: " + ", ".join(map(str, c["conditions"])))
    features = [str(f.get("feature")) for f in model.get("strongest_features") or [] if isinstance(f, Mapping)]
    if features:
        parts.append("模型特征 model features: " + "、".join(features[:5]))
    examples = [e for e in model.get("nearest_examples") or [] if isinstance(e, Mapping)]
    if examples:
        parts.append(f"相似案例 nearest example: {examples[0].get('text')}")
    return "; ".join(parts) or "—"
