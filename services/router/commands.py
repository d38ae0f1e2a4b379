"""The batch commands: `classify FILE.jsonl` (one JSON line out per line in) and `export-training`."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import asyncpg

from services.router.adapters import repository as repo
from services.router.classification.decision import Engine, TextDecision, decide_text
from services.router.classification.evaluate import context_for
from services.router.classification.export import export
from services.router.domain.decide import LOCAL_TZ
from services.router.settings import RouterSettings


def classify_lines(engine: Engine, lines: Iterable[str], today: datetime) -> Iterator[dict[str, Any]]:
    """Lines `{"text", "channel", "address"?, "appeal_type"?}` → outcome, urgency, top 3 candidates.

    The place is not judged here (no gazetteer): `outcome` is the classification's decision."""
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        text = str(row["text"])
        if row.get("address"):
            text = f"{row['address']} {text}"
        decision = decide_text(engine, text, None, context_for(row.get("channel", "hotline")),
                               appeal_type=row.get("appeal_type"), reported_urgent=False,
                               day=today.astimezone(LOCAL_TZ).date())
        yield describe(engine, decision)


def describe(engine: Engine, decision: TextDecision) -> dict[str, Any]:
    by_code = engine.responsibility_list.by_code
    out: dict[str, Any] = {
        "outcome": decision.outcome,
        "urgent": decision.urgency.urgent,
        "candidates": [{"item_code": c.item_code, "item_name": by_code[c.item_code].name,
                        "owner": by_code[c.item_code].owner, "score": c.score}
                       for c in decision.assessment.classification.candidates[:3]],
    }
    if decision.assisting:
        out["assisting"] = [{"item_code": i.code, "owner": i.owner} for i in decision.assisting]
    if decision.answer is not None:
        out["answer"] = {"entry_id": decision.answer.id, "text": decision.answer.answer}
    if decision.verdict.why_manual and decision.outcome == "manual":
        out["why_manual"] = decision.verdict.why_manual
    return out


def _write(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")


def classify_file(engine: Engine, path: Path, out: TextIO = sys.stdout) -> int:
    lines = sys.stdin if str(path) == "-" else path.read_text(encoding="utf-8").splitlines()
    for result in classify_lines(engine, lines, datetime.now(LOCAL_TZ)):
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


async def export_training(settings: RouterSettings, out: Path) -> dict[str, Any]:
    conn = await asyncpg.connect(settings.database_url, server_settings={"search_path": settings.schema_name})
    try:
        result = export(await repo.centre_decisions(conn))
    finally:
        await conn.close()
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in result.lines)
    await asyncio.to_thread(_write, out, body)
    return {"written": len(result.lines), "file": str(out), "by_kind": dict(result.by_kind),
            "most_corrected_items": result.corrected.most_common(10)}
