"""Open311 GeoReport v2: the service list, a service request → the normalised incident, and the errors.

Pure: the responsibility list arrives as parsed YAML, ids and clocks come from the caller. Requests are
published on intake.hotline.v1 with channel `open311` (see services/intake/README.md, "Open311").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import AnyHttpUrl, AnyUrl, BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas.common import Channel, GeoPoint
from schemas.incident import IncidentReported, Location, Reporter
from services.intake.domain.privacy import mask_name, mask_phone, scrub_optional, scrub_text


@dataclass(frozen=True)
class Service:
    """One GeoReport service: a responsibility item (权责清单事项) of the district's list."""

    service_code: str
    service_name: str
    group: str
    description: str = ""

    def as_georeport(self) -> dict[str, Any]:
        return {"service_code": self.service_code, "service_name": self.service_name,
                "description": self.description or self.service_name, "metadata": False, "type": "realtime",
                "keywords": "", "group": self.group}


def services_from_list(index: Mapping[str, Any], class_files: Mapping[str, Mapping[str, Any]]) -> list[Service]:
    """`list.yaml` names the classes and their files; each file's `items` are the services."""
    found: list[Service] = []
    for cls in index.get("classes", []):
        items = class_files.get(str(cls["file"]), {}).get("items", [])
        found.extend(Service(str(i["code"]), str(i["name"]), str(cls["name"])) for i in items)
    return found


class ServiceRequest(BaseModel):
    """`POST requests.json` fields (GeoReport v2). `request_id` is `attribute[request_id]`, optional."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    service_code: str = Field(min_length=1, max_length=32, examples=["A04.001"])
    lat: float | None = Field(default=None, ge=-90, le=90, examples=[32.02])
    long: float | None = Field(default=None, ge=-180, le=180, examples=[120.91])
    address_string: str | None = Field(default=None, max_length=500, examples=["通江区人民东路128号"])
    address_id: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=4000, examples=["人行道井盖破损"])
    media_url: AnyHttpUrl | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^[0-9+\-\s()]{5,20}$")
    first_name: str | None = Field(default=None, max_length=50)
    last_name: str | None = Field(default=None, max_length=50)
    device_id: str | None = Field(default=None, max_length=128)
    account_id: str | None = Field(default=None, max_length=128)
    request_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9\-_]{4,64}$")

    @model_validator(mode="after")
    def _needs_a_place(self) -> ServiceRequest:
        if (self.lat is None) != (self.long is None):
            raise ValueError("lat and long go together")
        if self.lat is None and not self.address_string and not self.address_id:
            raise ValueError("a location is required: lat and long, address_string or address_id")
        return self

    @property
    def contact(self) -> str | None:
        return self.phone or self.email


def parse_request(form: Iterable[tuple[str, str]]) -> ServiceRequest | list[dict[str, Any]]:
    """A form → ServiceRequest, or GeoReport errors (one per field) for a 400."""
    fields: dict[str, str] = {}
    for name, value in form:
        key = "request_id" if name == "attribute[request_id]" else name
        if key in ServiceRequest.model_fields and value != "":
            fields[key] = value
    try:
        return ServiceRequest.model_validate(fields)
    except ValidationError as exc:
        return [error(400, f"{'.'.join(str(p) for p in e['loc']) or 'request'}: {e['msg']}")
                for e in exc.errors()]


def natural_id(source: str, form: Iterable[tuple[str, str]], req: ServiceRequest) -> str:
    """`{source}:{request_id}` when the client names its request, else `{source}:sha256:<hash of the form>`
    (api_key left out, fields sorted), so an identical resubmission is the same request."""
    if req.request_id:
        return f"{source}:{req.request_id}"
    canonical = "&".join(sorted(f"{k}={v}" for k, v in form if k != "api_key"))
    return f"{source}:sha256:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def mask_email(email: str | None) -> str | None:
    """z***@example.cn: the first letter and the domain stay."""
    if not email or "@" not in email:
        return None
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"


def to_incident(
    req: ServiceRequest, service: Service, incident_id: str, source_id: str, received_at: datetime,
    contact_ref: str | None,
) -> IncidentReported:
    name = "".join(n for n in (req.last_name, req.first_name) if n) or None
    point = GeoPoint(lat=req.lat, lon=req.long) if req.lat is not None and req.long is not None else None
    return IncidentReported(
        incident_id=incident_id,
        channel=Channel.OPEN311,
        source_id=source_id,
        reporter=Reporter(kind="citizen", name=mask_name(name),
                          contact_masked=mask_phone(req.phone) if req.phone else mask_email(req.email),
                          contact_ref=contact_ref),
        text=scrub_text(req.description or service.service_name)[:4000],
        category_hint=service.service_name,
        category_code=service.service_code,
        location=Location(point=point, address=scrub_optional(req.address_string or req.address_id)),
        attachments=(AnyUrl(str(req.media_url)),) if req.media_url else (),
        reported_at=received_at,
        received_at=received_at,
    )


def request_row(incident_id: str, req: ServiceRequest, service: Service, received_at: datetime) -> dict[str, Any]:
    """What `GET requests.json` lists of a request: no phone, e-mail, name or device is kept."""
    return {"service_request_id": incident_id, "case_id": f"C-{incident_id}", "service_code": service.service_code,
            "service_name": service.service_name,
            "description": scrub_text(req.description)[:4000] if req.description else None,
            "lat": req.lat, "long": req.long, "address": req.address_string or req.address_id,
            "media_url": str(req.media_url) if req.media_url else None, "requested_at": received_at}


def error(code: int, description: str) -> dict[str, Any]:
    return {"code": code, "description": description}
