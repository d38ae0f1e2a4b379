"""Open311 GeoReport v2 adapter: `/open311/v2/services.json`, `requests.json`, `requests/{id}.json`.

Requests go to intake.hotline.v1 with channel `open311`: the 12345 centre takes every citizen request,
whatever its door (README, "Open311"). Errors use GeoReport's format `[{"code": …, "description": …}]`.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from schemas.common import Channel
from schemas.topics import INCIDENT_REPORTED, INTAKE_HOTLINE
from services.intake.adapters import open311_store as store
from services.intake.adapters.http.guards import throttle
from services.intake.adapters.http.responses import RETRY_AFTER_SECONDS
from services.intake.domain.credentials import check_api_key
from services.intake.domain.ids import body_hash, incident_id
from services.intake.domain.open311 import (
    Service,
    ServiceRequest,
    error,
    natural_id,
    parse_request,
    request_row,
    services_from_list,
    to_incident,
)
from services.intake.gateway import BrokerUnavailable, Conflict, Gateway, Submission

router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"])
INCIDENT_ID = re.compile(r"^OS-[0-9A-F]{16}$")
NOTICE = "已受理，12345 热线中心将转交责任单位处置。Accepted; the 12345 centre routes it to the responsible unit."


class CreatedRequest(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None = None


class GeoReportError(BaseModel):
    code: int
    description: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": list[GeoReportError], "description": text} for status, text in {
        400: "missing or invalid fields (one error per field)", 401: "api_key missing or unknown",
        403: "api_key not allowed to submit Open311 requests", 404: "no such service request",
        409: "attribute[request_id] was already used for a different request",
        413: "body too large", 415: "not form-encoded", 429: "flooded: retry after Retry-After",
        503: "Kafka did not acknowledge: retry after Retry-After (safe: idempotent)",
    }.items()
}
FORM_EXAMPLE = {"api_key": "dev-open311-key", "service_code": "A04.001", "lat": "32.02", "long": "120.91",
                "address_string": "通江区人民东路128号", "description": "人行道井盖破损，晚上很危险",
                "media_url": "https://img.example.cn/cover.jpg", "phone": "13812345678",
                "attribute[request_id]": "app-7d1c2e"}


def _form_schema() -> dict[str, Any]:
    """The form as an OpenAPI schema: every field a string-valued form field (no nulls in a form)."""
    schema = ServiceRequest.model_json_schema()
    props = {name: _not_null(prop) for name, prop in schema["properties"].items()}
    props["attribute[request_id]"] = {**props.pop("request_id"), "description": "the client's idempotency key"}
    props["api_key"] = {"type": "string", "description": "the Open311 client's key (or header X-Api-Key)"}
    return {"type": "object", "properties": props, "required": ["api_key", "service_code"]}


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    variants = [v for v in prop.get("anyOf", []) if v.get("type") != "null"]
    plain = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
    return {**plain, **variants[0]} if len(variants) == 1 else plain


def georeport_error(status: int, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse([error(status, description)], status_code=status, headers=headers)


async def services_of(request: Request) -> dict[str, Service]:
    """The responsibility list, read once per app (in a thread: file I/O stays off the event loop)."""
    cached: dict[str, Service] | None = getattr(request.app.state, "open311_services", None)
    if cached is None:
        found = await asyncio.to_thread(_read_services, request.app.state.settings.open311_services_dir)
        cached = request.app.state.open311_services = {s.service_code: s for s in found}
    return cached


def _read_services(directory: Path) -> list[Service]:
    index = yaml.safe_load((directory / "list.yaml").read_text(encoding="utf-8"))
    files = {str(c["file"]): yaml.safe_load((directory / str(c["file"])).read_text(encoding="utf-8"))
             for c in index.get("classes", [])}
    return services_from_list(index, files)


@router.get("/services.json", summary="The service list: the district's responsibility items (权责清单)")
async def list_services(request: Request) -> list[dict[str, Any]]:
    return [s.as_georeport() for s in (await services_of(request)).values()]


@router.post(
    "/requests.json", response_model=list[CreatedRequest], responses=ERRORS,
    summary="Submit a service request (form-encoded); answered once it is durable on intake.hotline.v1",
    openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
        "schema": _form_schema(), "example": FORM_EXAMPLE}}}},
)
async def create_request(request: Request) -> Any:
    form = await _fields(request)
    if isinstance(form, JSONResponse):
        return form
    settings = request.app.state.settings
    key = request.headers.get("x-api-key") or dict(form).get("api_key", "")
    source = check_api_key(settings.sources, key) if key else None
    if not isinstance(source, str):
        return georeport_error(401, "api_key missing or unknown")
    if "open311" not in settings.source_channels.get(source, []):
        return georeport_error(403, f"api_key of {source!r} may not submit Open311 requests")
    try:
        throttle(request, source)
    except HTTPException as exc:
        return georeport_error(exc.status_code, str(exc.detail), dict(exc.headers or {}))
    req = parse_request(form)
    if isinstance(req, list):
        return JSONResponse(req, status_code=400)
    service = (await services_of(request)).get(req.service_code)
    if service is None:
        return georeport_error(400, f"service_code {req.service_code!r} is not in services.json")
    return await _submit(request.app.state.gateway, source, form, req, service)


async def _submit(
    gw: Gateway, source: str, form: list[tuple[str, str]], req: ServiceRequest, service: Service
) -> Any:
    nid = natural_id(source, form, req)
    received = datetime.now(UTC)
    try:
        result = await gw.submit(Submission(
            channel=Channel.OPEN311.value,
            natural_id=nid,
            incident_id=incident_id(Channel.OPEN311, nid),
            body_hash=body_hash(sorted(p for p in form if p[0] != "api_key")),
            topic=INTAKE_HOTLINE,
            event_type=INCIDENT_REPORTED,
            key=nid,
            build=lambda iid, ref: to_incident(req, service, iid, nid, received, ref),
            contact=req.contact,
        ))
    except BrokerUnavailable as exc:
        return georeport_error(503, f"not accepted yet ({exc}); retry with the same request",
                               {"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(result, Conflict):
        return georeport_error(409, f"{result.reason} (service request {result.incident_id})")
    await store.record_request(gw.pool, request_row(result.incident_id, req, service, received))
    return [CreatedRequest(service_request_id=result.incident_id, service_notice=NOTICE,
                           account_id=req.account_id)]


async def _fields(request: Request) -> list[tuple[str, str]] | JSONResponse:
    """Form fields in order (text values only); a flat JSON object is taken too."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            return georeport_error(400, "body is not JSON")
        if not isinstance(data, dict):
            return georeport_error(400, "body must be a JSON object of GeoReport fields")
        return [(str(k), str(v)) for k, v in data.items() if isinstance(v, str | int | float)]
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
