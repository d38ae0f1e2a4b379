"""Department actions on their cases: `POST /v1/cases/{case_id}/actions` → intake.actions.v1.

Intake checks the shape and who may speak for which actor; the router judges the transition."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path

from schemas.intake_api import Accepted, CaseActionRequest
from schemas.topics import ACTION_TAKEN, INTAKE_ACTIONS
from services.intake.adapters.http.guards import require_source
from services.intake.adapters.http.responses import ERRORS, accept, gateway
from services.intake.domain.ids import body_hash
from services.intake.domain.normalise import to_action
from services.intake.gateway import Gateway, Submission

router = APIRouter(prefix="/v1/cases", tags=["department actions"])
CASE_ID = r"^[A-Za-z0-9\-_]{4,64}$"


@router.post("/{case_id}/actions", status_code=202, response_model=Accepted, responses=ERRORS,
             summary="Record an action on a case (accept, return, resolve, verify, rate, extend, suspend…)")
async def take_action(
    body: CaseActionRequest,
    source: Annotated[str, Depends(require_source("actions"))],
    gw: Annotated[Gateway, Depends(gateway)],
    case_id: Annotated[str, Path(pattern=CASE_ID, examples=["C-HL-3F2A9C0D11E4B7A2"])],
) -> Accepted:
    if source.startswith("dept:") and body.actor != source.removeprefix("dept:"):
        raise HTTPException(403, f"source {source} may only act as {source.removeprefix('dept:')}")
    natural_id = f"{case_id}:{body.action_id}"
    action_event_id = "ACT-" + hashlib.blake2b(natural_id.encode(), digest_size=8).hexdigest().upper()
    return await accept(gw, Submission(
        channel="actions",
        natural_id=natural_id,
        incident_id=action_event_id,
        body_hash=body_hash(body.model_dump(mode="json")),
        topic=INTAKE_ACTIONS,
        event_type=ACTION_TAKEN,
        key=case_id,
        build=lambda _, __: to_action(case_id, body),
    ))
