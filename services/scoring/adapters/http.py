"""Scoring's read-only query API: ranked cards (JSON or CSV for analysts), and the ruler itself."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from schemas.score import EntityType, ScoreCard
from services.scoring.adapters import repository as repo
from services.scoring.domain.export import cards_csv
from services.scoring.domain.ruler import Ruler, RulerBook

router = APIRouter(tags=["scores"])
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"
Period = Annotated[str, Query(pattern=PERIOD, examples=["2026-11"], description="month, Asia/Shanghai")]
RulerVersion = Annotated[str | None, Query(examples=["2026.12-1"], description=(
    "ruler version; default: the newest in effect for the month (every version in effect has its own cards)"))]
OneType = Annotated[EntityType | None, Query(description="all types when omitted")]


async def _cards(request: Request, period: str, ruler: str | None,
                 entity_type: EntityType | None) -> tuple[Ruler, list[ScoreCard]]:
    book: RulerBook = request.app.state.scoring.context.rulers
    found = book.by_version.get(ruler) if ruler else book.for_period(period)
    if found is None or found not in book.in_effect(period):
        raise HTTPException(404, f"ruler {ruler or '(none)'} does not score {period}; in effect: "
                                 f"{', '.join(r.version for r in book.in_effect(period)) or 'none'}")
    async with request.app.state.scoring.pool.acquire() as conn:
        return found, await repo.cards(conn, period, found.version, entity_type)


@router.get("/v1/scores", summary="Ranked score cards of a month under one ruler version, with every indicator")
async def scores(request: Request, period: Period, ruler: RulerVersion = None,
                 entity_type: OneType = None) -> dict[str, Any]:
    found, cards = await _cards(request, period, ruler, entity_type)
    book: RulerBook = request.app.state.scoring.context.rulers
    return {"period": period, "entity_type": entity_type.value if entity_type else None,
            "ruler_version": found.version, "rulers_in_effect": [r.version for r in book.in_effect(period)],
            "cards": [c.model_dump(mode="json") for c in cards]}


@router.get("/v1/scores.csv", summary="The same cards as CSV (UTF-8 with BOM, one row per indicator)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def scores_csv(request: Request, period: Period, ruler: RulerVersion = None,
                     entity_type: OneType = None) -> Response:
    found, cards = await _cards(request, period, ruler, entity_type)
    name = f"scores-{period}-{found.version}.csv"
    return Response(cards_csv(cards), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/v1/ruler", tags=["ruler"], summary="The ruler: current version, or one by version or period")
async def ruler(
    request: Request,
    version: Annotated[str | None, Query(examples=["2026.12-1"])] = None,
    period: Annotated[str | None, Query(pattern=PERIOD, description="the default version for this month")] = None,
) -> dict[str, Any]:
    book: RulerBook = request.app.state.scoring.context.rulers
    found = book.by_version.get(version) if version else book.for_period(period) if period else book.current
    if found is None:
        raise HTTPException(404, f"no ruler {'version ' + version if version else 'in effect for ' + str(period)}")
    return found.model_dump(mode="json") | {"versions": [r.version for r in book.rulers]}
