"""Request guards: body size (413), media type (415), credentials (401/403), flood control (429)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.intake.domain.credentials import Denied, check_api_key, check_signature, check_worker_token

XML_TYPES = ("text/xml", "application/xml")

# Declared for the OpenAPI document (security schemes); the checks below read the headers themselves.
API_KEY = APIKeyHeader(
    name="X-Api-Key", scheme_name="ApiKey", auto_error=False, description="the publishing system's API key"
)
SIGNATURE = APIKeyHeader(
    name="X-Gridline-Signature", scheme_name="Signature", auto_error=False,
    description="t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'> with X-Gridline-Source: <source name>",
)
WORKER_TOKEN = HTTPBearer(
    scheme_name="WorkerToken", auto_error=False, description="a grid worker's token, bound to the worker id"
)


class BodyGuard:
    """ASGI middleware: refuse oversized bodies before reading them, and wrong media types on POST."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared, content_type, chunked = "", "", False
        for name, value in scope["headers"]:  # ASGI header names are lower-case bytes
            if name == b"content-length":
                declared = value.decode(errors="replace")
            elif name == b"content-type":
                content_type = value.decode(errors="replace")
            elif name == b"transfer-encoding":
                chunked = True
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _reply(send, 413, f"body larger than {self.max_bytes} bytes")
            return
        media = content_type.split(";")[0].strip().lower()
        wanted = _media_for(scope["path"])
        if media not in wanted:
            await _reply(send, 415, f"content-type must be one of {', '.join(wanted)}")
            return
        if declared.isdigit() and not chunked:  # the server reads no more than that: nothing to count
            await self.app(scope, receive, send)
            return
        seen, refused = 0, False

        async def counted() -> Message:
            # Past the limit, answer 413 ourselves and tell the app the client left. Raising here would
            # not do: FastAPI turns any error while it reads the body into its own 400.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes and not refused:
                refused = True
                await _reply(send, 413, f"body larger than {self.max_bytes} bytes")
                return {"type": "http.disconnect"}
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, unless_refused)


def _media_for(path: str) -> tuple[str, ...]:
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[:2] == ["v1", "wechat"]:
        return XML_TYPES
    if path.startswith("/open311/"):
        return ("application/x-www-form-urlencoded", "multipart/form-data", "application/json")
    return ("application/json",)


async def _reply(send: Send, status: int, detail: str) -> None:
    body = ('{"detail":"' + detail.replace('"', "'") + '"}').encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _deny(denied: Denied) -> HTTPException:
    headers = {"WWW-Authenticate": "ApiKey"} if denied.status == 401 else None
    return HTTPException(denied.status, denied.reason, headers=headers)


# What Security(API_KEY) and Security(SIGNATURE) declare on a route, for routes that check the source with
# `source_for` (the hot 12345 routes): `openapi_extra={"security": SOURCE_SECURITY}`.
SOURCE_SECURITY: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Signature": []}]


async def authenticate(request: Request, channel: str) -> str:
    """The publishing system, authenticated by API key or HMAC signature, allowed on `channel`, throttled."""
    settings = request.app.state.settings
    key = request.headers.get("x-api-key")
    signature = request.headers.get("x-gridline-signature")
    if key:
        source = check_api_key(settings.sources, key)
    elif signature:
        source = check_signature(
            settings.sources, request.headers.get("x-gridline-source", ""), signature,
            await request.body(), int(time.time()), settings.signature_window_seconds,
        )
    else:
        source = Denied(401, "send X-Api-Key, or X-Gridline-Source with X-Gridline-Signature")
    if isinstance(source, Denied):
        raise _deny(source)
    if channel not in settings.source_channels.get(source, []):
        raise _deny(Denied(403, f"source {source!r} may not publish {channel}"))
    throttle(request, source)
    return source


def require_source(channel: str) -> Callable[[Request], Awaitable[str]]:
    """Dependency: the publishing system allowed on `channel` (`authenticate`); the two Security
    parameters put the schemes in the OpenAPI document."""

    async def dependency(
        request: Request, _key: object = Security(API_KEY), _signature: object = Security(SIGNATURE)
    ) -> str:
        return await authenticate(request, channel)

    return dependency


def source_for(channel: str) -> Callable[[Request], Awaitable[str]]:
    """`require_source` without its two documentation-only sub-dependencies — each is one more dependency
    solved per request, a measurable share of a small request's CPU. Its routes declare
    `openapi_extra={"security": SOURCE_SECURITY}`. Still a dependency, so credentials are checked before
    the body is validated (401 before 422), as everywhere else."""

    async def dependency(request: Request) -> str:
        return await authenticate(request, channel)

    return dependency


async def require_worker(request: Request, _token: object = Security(WORKER_TOKEN)) -> str:
    """Dependency: the grid worker id bound to the bearer token."""
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise _deny(Denied(401, "grid workers send Authorization: Bearer <worker token>"))
    worker = check_worker_token(request.app.state.settings.worker_token_secret, auth[7:].strip())
    if isinstance(worker, Denied):
        raise _deny(worker)
    throttle(request, f"worker:{worker}")
    return worker


def throttle(request: Request, source: str, cost: float = 1.0) -> None:
    wait = request.app.state.limiter.check(source, time.monotonic(), cost)
    if wait > 0:
        raise HTTPException(429, f"too many requests from {source}", headers={"Retry-After": str(int(wait) + 1)})
