"""The synthetic city and incidents every benchmark works on, in the shapes each stage receives them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from schemas.cloudevents import Outgoing, encode
from schemas.common import Channel, GeoPoint, Urgency
from schemas.incident import AppealType, IncidentReported, Location, Reporter
from schemas.intake_api import HotlineTicket
from schemas.topics import INCIDENT_REPORTED, INTAKE_HOTLINE
from services.intake.domain.ids import incident_id
from services.intake.domain.normalise import from_hotline
from simcity.export import write_city
from simcity.generate import generate_city
from simcity.incidents import SyntheticIncident, generate_incidents

SEED = 824
CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 23, 8, 0, tzinfo=CST)


def write_city_dir(directory: Path) -> Path:
    """grids.geojson + gazetteer.json as the router loads them (`python -m simcity write`)."""
    write_city(generate_city(), directory)
    return directory


def synthetic(n: int, seed: int = SEED) -> list[SyntheticIncident]:
    return generate_incidents(generate_city(), seed, n, START)


def to_incident(inc: SyntheticIncident, incident_no: str) -> IncidentReported:
    """What intake writes to `intake.<channel>.v1` for this report (grid reports name their grid)."""
    point = GeoPoint(lon=inc.lon, lat=inc.lat) if inc.lon is not None and inc.lat is not None else None
    channel = Channel(inc.channel)
    return IncidentReported(
        incident_id=incident_no, channel=channel, source_id=inc.natural_id,
        reporter=Reporter(kind="grid_worker" if channel is Channel.GRID else "citizen", id=inc.worker_id),
        text=inc.text, category_hint=inc.category_hint,
        appeal_type=AppealType(inc.appeal_type) if inc.appeal_type else None,
        location=Location(point=point, address=inc.address, grid_id=inc.grid_id),
        urgency=Urgency(inc.urgency), reported_at=inc.reported_at, received_at=inc.reported_at,
    )


def hotline_record(incident: IncidentReported) -> Outgoing:
    """The record on intake.hotline.v1, encoded the way the tests' feeder does (keyed by the incident)."""
    iid = incident.incident_id
    return encode(INTAKE_HOTLINE, iid, incident, type=INCIDENT_REPORTED, source="/bench", subject=iid,
                  event_id=iid)


def ticket_body(inc: SyntheticIncident, ticket_no: str) -> dict[str, Any]:
    """A 12345 ticket as the hotline system posts it; every report becomes one (grid and WeChat too)."""
    point = {"lon": inc.lon, "lat": inc.lat} if inc.lon is not None and inc.lat is not None else None
    return {
        "ticket_no": ticket_no, "call_time": inc.reported_at.isoformat(), "caller_name": inc.reporter_name,
        "caller_phone": "13800000000", "appeal_type": inc.appeal_type or "投诉", "urgency": inc.urgency,
        "text": inc.text, "address": inc.address, "point": point, "operator_id": "OP-BENCH",
        "category_hint": inc.category_hint,
    }


WORKER_SECRET = "dev-worker-token-secret"  # intake's default (IntakeSettings.worker_token_secret)
HOTLINE_KEY = {"X-Api-Key": "dev-hotline-key"}
MINI_KEY = {"X-Api-Key": "dev-wechat-mini-key"}
DEPT_KEY = {"X-Api-Key": "dev-dept-key"}
ITEM_CODES = Path(__file__).resolve().parents[1] / "deploy" / "local" / "demo_item_codes.yaml"


def item_codes() -> dict[str, str]:
    """simcity incident kind → the item code a grid worker picks in the app for it."""
    import yaml

    codes: dict[str, str] = yaml.safe_load(ITEM_CODES.read_text()) if ITEM_CODES.exists() else {}
    return codes


def request_for(inc: SyntheticIncident, no: str, codes: dict[str, str], on_the_spot: bool,
                tokens: dict[str, str]) -> tuple[str, dict[str, Any], dict[str, str]]:
    """(path, body, headers) of the report as its channel sends it: a 12345 ticket, a grid worker's
    report from the app (with the item picked, sometimes handled on the spot) or a WeChat mini-program
    submission; `no` makes its natural id unique."""
    point = {"lon": inc.lon, "lat": inc.lat} if inc.lon is not None and inc.lat is not None else None
    at = inc.reported_at.isoformat()
    if inc.channel == "hotline":
        return "/v1/hotline/tickets", ticket_body(inc, no), HOTLINE_KEY
    if inc.channel == "grid":
        worker = inc.worker_id or "GW0001"
        if worker not in tokens:
            from services.intake.domain.credentials import issue_worker_token

            tokens[worker] = f"Bearer {issue_worker_token(WORKER_SECRET, worker)}"
        return "/v1/grid/reports", {
            "report_id": no, "worker_id": worker, "grid_id": inc.grid_id or inc.true_grid_id,
            "category_code": codes.get(inc.true_kind, "A01.001"), "point": point or {"lon": 120.9, "lat": 32.0},
            "text": inc.text, "handled_on_spot": on_the_spot, "reported_at": at,
            "evidence_urls": ["https://img.example.org/after.jpg"] if on_the_spot else [],
            "photo_urls": ["https://img.example.org/before.jpg"],
        }, {"Authorization": tokens[worker]}
    location = {"lon": inc.lon, "lat": inc.lat, "address": inc.address} if point else None
    return "/v1/wechat/tongjiang/submissions", {
        "request_id": no, "openid": f"oBENCH{no[-20:]}", "text": inc.text, "location": location,
        "submitted_at": at,
    }, MINI_KEY


def intake_record(body: dict[str, Any]) -> Outgoing:
    """The record intake would publish for this ticket (same payload and headers, no contact vault)."""
    ticket = HotlineTicket.model_validate(body)
    iid = incident_id(Channel.HOTLINE, ticket.ticket_no)
    event = from_hotline(ticket, iid, datetime.now(UTC), None)
    return encode(INTAKE_HOTLINE, ticket.ticket_no, event, type=INCIDENT_REPORTED,
                  source="/gridline/intake/hotline", subject=iid, event_id=iid)
