"""Grid workers' app adapter (全要素网格通): `POST /v1/grid/reports`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from schemas.common import Channel
from schemas.intake_api import Accepted, GridReport
from schemas.topics import INCIDENT_REPORTED, INTAKE_GRID
from services.intake.adapters.http.guards import require_worker
from services.intake.adapters.http.responses import ERRORS, accept, gateway
from services.intake.domain.ids import body_hash, incident_id
from services.intake.domain.normalise import from_grid_report
from services.intake.gateway import Gateway, Submission

router = APIRouter(prefix="/v1/grid", tags=["grid workers' app"])


@router.post("/reports", status_code=202, response_model=Accepted, responses=ERRORS,
             summary="Take a grid worker's report (also 自行处置 handled on the spot)")
async def take_report(
    report: GridReport, worker: Annotated[str, Depends(require_worker)], gw: Annotated[Gateway, Depends(gateway)]
) -> Accepted:
    if report.worker_id != worker:
        raise HTTPException(403, f"token is bound to worker {worker}, not {report.worker_id}")
    received = datetime.now(UTC)
    return await accept(gw, Submission(
        channel=Channel.GRID.value,
        natural_id=report.report_id,
        incident_id=incident_id(Channel.GRID, report.report_id),
        body_hash=body_hash(report.model_dump(mode="json")),
        topic=INTAKE_GRID,
        event_type=INCIDENT_REPORTED,
        key=report.report_id,
        build=lambda iid, _: from_grid_report(report, iid, received),
    ))
