"""Scoring's read-only query API: ranked cards, and the ruler itself (published rules are public)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from schemas.score import EntityType
from services.scoring.adapters import repository as repo
from services.scoring.domain.ruler import RulerBook

router = APIRouter(tags=["scores"])
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


@router.get("/v1/scores", summary="Ranked score cards of a month, with every indicator's breakdown")
async def scores(
    request: Request,
    period: Annotated[str, Query(pattern=PERIOD, examples=["2026-11"], description="month, Asia/Shanghai")],
    entity_type: Annotated[EntityType | None, Query(description="all types when omitted")] = None,
) -> dict[str, Any]:
    async with request.app.state.scoring.pool.acquire() as conn:
        cards = await repo.cards(conn, period, entity_type)
    book: RulerBook = request.app.state.scoring.context.rulers
    ruler = book.for_period(period)
    return {"period": period, "entity_type": entity_type.value if entity_type else None,
            "ruler_version": ruler.version if ruler else None, "cards": cards}


@router.get("/v1/ruler", tags=["ruler"], summary="The ruler: current version, or one by version or period")
async def ruler(
    request: Request,
    version: Annotated[str | None, Query(examples=["2026.11-1"])] = None,
    period: Annotated[str | None, Query(pattern=PERIOD, description="the version that scores this month")] = None,
) -> dict[str, Any]:
    book: RulerBook = request.app.state.scoring.context.rulers
    found = book.by_version.get(version) if version else book.for_period(period) if period else book.current
    if found is None:
        raise HTTPException(404, f"no ruler {'version ' + version if version else 'in effect for ' + str(period)}")
    return found.model_dump(mode="json") | {"versions": [r.version for r in book.rulers]}
