"""WeChat mini program adapter (掌上云社区): `POST /v1/wechat/{account}/submissions`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from schemas.common import Channel
from schemas.intake_api import Accepted, MiniProgramSubmission
from schemas.topics import INCIDENT_REPORTED, INTAKE_WECHAT
from services.intake.adapters.http.guards import require_source
from services.intake.adapters.http.responses import ERRORS, accept, gateway
from services.intake.domain.ids import body_hash, incident_id, mini_program_natural_id
from services.intake.domain.normalise import from_mini_program
from services.intake.gateway import Gateway, Submission

router = APIRouter(prefix="/v1/wechat", tags=["WeChat mini program"])


@router.post("/{account}/submissions", status_code=202, response_model=Accepted, responses=ERRORS,
             summary="Take a mini-program submission (the mini program's back end signs or keys its calls)")
async def take_submission(
    sub: MiniProgramSubmission,
    request: Request,
    _: Annotated[str, Depends(require_source("wechat"))],
    gw: Annotated[Gateway, Depends(gateway)],
    account: Annotated[str, Path(pattern=r"^[a-z0-9_\-]{2,32}$")],
) -> Accepted:
    if account not in request.app.state.settings.wechat_accounts:
        raise HTTPException(404, f"unknown WeChat account {account!r}")
    natural_id = mini_program_natural_id(account, sub.request_id)
    received = datetime.now(UTC)
    return await accept(gw, Submission(
        channel=Channel.WECHAT.value,
        natural_id=natural_id,
        incident_id=incident_id(Channel.WECHAT, natural_id),
        body_hash=body_hash(sub.model_dump(mode="json")),
        topic=INTAKE_WECHAT,
        event_type=INCIDENT_REPORTED,
        key=natural_id,
        build=lambda iid, ref: from_mini_program(sub, account, iid, received, ref),
        contact=sub.openid,
    ))
