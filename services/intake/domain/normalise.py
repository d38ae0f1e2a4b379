"""Source requests → the normalised incident contract. Pure: ids and clocks come from the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import AnyUrl

from schemas.action import ActionTaken
from schemas.common import Channel, GeoPoint
from schemas.incident import IncidentReported, Location, OnTheSpot, Reporter
from schemas.intake_api import CaseActionRequest, GridReport, HotlineTicket, MiniProgramSubmission
from services.intake.domain.ids import mini_program_natural_id
from services.intake.domain.privacy import mask_name, mask_openid, mask_phone, scrub_optional, scrub_text

TEXT_LIMIT, ADDRESS_LIMIT = 4000, 500  # IncidentReported.text, Location.address
_HOTLINE = Channel.HOTLINE.value  # an enum's `.value` is a Python property: read once, not per ticket


def hotline_payload(
    ticket: HotlineTicket, incident_id: str, received_at: datetime, contact_ref: str | None
) -> dict[str, Any]:
    """A ticket's `IncidentReported` as JSON-ready data, field for field (and in field order) what the
    model dumps — without building and validating the model again: every value is the validated
    ticket's or a masking function's. tests/unit/intake/test_normalise.py holds the two to the same
    bytes. The one check the model would add that masking can upset (a landline written without its
    dash grows by a character) is kept: text or address past its limit goes through the model."""
    text, address = scrub_text(ticket.text), scrub_optional(ticket.address)
    point = ticket.point
    payload: dict[str, Any] = {
        "incident_id": incident_id,
        "channel": _HOTLINE,
        "source_id": ticket.ticket_no,
        "reporter": {
            "kind": "citizen",
            "id": ticket.operator_id and f"operator:{ticket.operator_id}",
            "name": mask_name(ticket.caller_name),
            "contact_masked": mask_phone(ticket.caller_phone),
            "contact_ref": contact_ref,
        },
        "text": text,
        "category_hint": ticket.category_hint,
        "category_code": None,
        "appeal_type": ticket.appeal_type,  # a StrEnum member: written as its value
        "location": {"point": None if point is None else {"lon": point.lon, "lat": point.lat}, "address": address,
                     "grid_id": None},
        "attachments": [],
        "urgency": ticket.urgency,
        "on_the_spot": None,
        "reported_at": ticket.call_time,
        "received_at": received_at,
    }
    if len(text) > TEXT_LIMIT or (address is not None and len(address) > ADDRESS_LIMIT):
        IncidentReported.model_validate(payload)  # raises as the model always did
    return payload


def hotline_json(ticket: HotlineTicket, incident_id: str, received_at: datetime, contact_ref: str | None) -> bytes:
    """The event's JSON, encoded once (orjson; UTC written `Z` as pydantic does)."""
    return orjson.dumps(hotline_payload(ticket, incident_id, received_at, contact_ref), option=orjson.OPT_UTC_Z)


def from_hotline(
    ticket: HotlineTicket, incident_id: str, received_at: datetime, contact_ref: str | None
) -> IncidentReported:
    return IncidentReported.model_validate(hotline_payload(ticket, incident_id, received_at, contact_ref))


def from_grid_report(report: GridReport, incident_id: str, received_at: datetime) -> IncidentReported:
    on_the_spot = (
        OnTheSpot(handled=True, evidence_urls=tuple(AnyUrl(str(u)) for u in report.evidence_urls))
        if report.handled_on_spot
        else None
    )
    return IncidentReported(
        incident_id=incident_id,
        channel=Channel.GRID,
        source_id=report.report_id,
        reporter=Reporter(kind="grid_worker", id=report.worker_id),
        text=scrub_text(report.text),
        category_code=report.category_code,
        location=Location(point=report.point, grid_id=report.grid_id),
        attachments=tuple(AnyUrl(str(u)) for u in report.photo_urls),
        urgency=report.urgency,
        on_the_spot=on_the_spot,
        reported_at=report.reported_at,
        received_at=received_at,
    )


def from_mini_program(
    sub: MiniProgramSubmission, account: str, incident_id: str, received_at: datetime, contact_ref: str | None
) -> IncidentReported:
    loc = sub.location
    return IncidentReported(
        incident_id=incident_id,
        channel=Channel.WECHAT,
        source_id=mini_program_natural_id(account, sub.request_id),
        reporter=Reporter(kind="citizen", id=mask_openid(sub.openid), contact_ref=contact_ref),
        text=scrub_text(sub.text),
        location=Location(
            point=GeoPoint(lon=loc.lon, lat=loc.lat) if loc else None,
            address=scrub_optional(loc.address) if loc else None,
        ),
        attachments=tuple(AnyUrl(str(u)) for u in sub.photos),
        reported_at=sub.submitted_at,
        received_at=received_at,
    )


def to_action(case_id: str, req: CaseActionRequest) -> ActionTaken:
    return ActionTaken(
        action_id=req.action_id,
        case_id=case_id,
        kind=req.kind,
        actor=req.actor,
        reason=scrub_optional(req.reason),
        note=scrub_optional(req.note),
        evidence_urls=tuple(AnyUrl(str(u)) for u in req.evidence_urls),
        passed=req.passed,
        satisfaction=req.satisfaction,
        extension_hours=req.extension_hours,
        target=req.target,
        taken_at=req.taken_at,
    )
