"""A route class whose JSON body is validated in one pass from the raw bytes.

FastAPI reads a model body as `json.loads` into dicts and lists, then validates those with pydantic
(py-spy on intake's 12345 batch path: 13 % of the samples, the largest part). pydantic-core can validate
the bytes themselves (`validate_json`): about half the CPU for a 500-ticket batch (2.2 vs 4.3 µs a
ticket) and none of the intermediate objects. This route hands FastAPI the validated model as "the
JSON" of the request, which its own validation then passes through (an instance of the field's type
is accepted as it is), so the endpoint, its dependencies, the OpenAPI document and every error are
FastAPI's: whenever the one pass fails, or the request is not plainly `application/json`, nothing is
handed over and FastAPI parses and validates the body as always (its 422 body, field by field).
Answers and their order are unchanged (a request without credentials still gets its 401 before any 422);
only the CPU is spent in another order: the body is validated before the route's dependencies run, so a
request refused with 401 or 429 has paid for its validation, bounded by the body-size guard as the parse
always was, and an invalid body is validated twice (the one pass, then FastAPI's).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette.requests import ClientDisconnect
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class OnePassJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        annotation = self.body_field.field_info.annotation if self.body_field is not None else None
        if self._embed_body_fields or not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return handler  # no body, a form, an embedded body or several body parameters: FastAPI's own way
        body = TypeAdapter(annotation)

        async def one_pass(request: Request) -> Response:
            if request.headers.get("content-type") == "application/json":
                request = _Validated(request.scope, request.receive, body)
            return await handler(request)

        return one_pass


class _Validated(Request):
    """A request whose `json()` is the body already validated (else the parsed JSON, as Starlette's)."""

    def __init__(self, scope: Any, receive: Any, body: TypeAdapter[Any]) -> None:
        super().__init__(scope, receive)
        self._model = body

    async def json(self) -> Any:
        try:
            return self._model.validate_json(await self.body())
        except ValidationError:
            return await super().json()  # FastAPI's path: its own JSON errors and validation errors


# A direct handler: the request (its body read) and the body validated into the route's model.
Direct = Callable[[Request, Any], Coroutine[Any, Any, Response]]
_DECLINED = "gridline.direct_declined"  # scope key: this request goes to the FastAPI route behind


class DirectJsonRoute(Route):
    """One FastAPI route's hot path as a plain endpoint, in front of that route.

    Per small request FastAPI's request handling — the endpoint's dependency solving, its body parse and
    validation, its response machinery — was the largest part of intake's CPU (py-spy, docs/benchmarks.md:
    FastAPI 24 % of the single-ticket samples). This route matches the same path and method first: a body
    sent as plain `application/json` that validates into the route's model in one pass (`validate_json`)
    goes to `direct(request, model)`, which does what the FastAPI endpoint does (its credential check
    included) and returns the response; anything it raises goes to the app's exception handlers, as from
    the FastAPI route. Everything else — another media type, a body that does not validate, another method
    — is routed again, body and all, past this route to the FastAPI route behind it, which answers as it
    always did: its 401 before its 422, its 422 bodies field by field. The OpenAPI document is the FastAPI
    route's (this one is not in the schema), and this route's path is the same template, which the
    telemetry names the request by."""

    def __init__(self, path: str, method: str, model: type[BaseModel], direct: Direct, routes: ASGIApp) -> None:
        super().__init__(path, self._unused, methods=[method], include_in_schema=False)
        self.direct = direct
        self.body: TypeAdapter[Any] = TypeAdapter(model)
        self.routes = routes  # the app's routing, to hand a request on to the FastAPI route

    @staticmethod
    async def _unused(_: Request) -> Response:  # pragma: no cover — `handle` never calls it
        raise AssertionError("served by handle")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope.get(_DECLINED) is self:
            return Match.NONE, {}
        return super().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self  # as FastAPI's routes do: the telemetry names the request by its template
        request = Request(scope, receive, send)
        if scope["method"] not in (self.methods or ()) or request.headers.get("content-type") != "application/json":
            await self._decline(scope, receive, send)
            return
        try:
            raw = await request.body()
        except ClientDisconnect:  # the client left, or the body guard refused the body and answered 413
            return
        try:
            model = self.body.validate_json(raw)
        except ValidationError:
            await self._decline(scope, _replay(raw, receive), send)
            return

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await self.direct(request, model)
            await response(scope, receive, send)

        await wrap_app_handling_exceptions(app, request)(scope, receive, send)

    async def _decline(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_DECLINED] = self
        await self.routes(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The request's body once more (it was read already), then the connection's own messages."""
    pending = True

    async def again() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def direct_routes(app: FastAPI, handlers: dict[tuple[str, str], tuple[type[BaseModel], Direct]]) -> None:
    """Put a `DirectJsonRoute` for each (method, path) in front of the app's routes; the app must serve
    the same path and method with a FastAPI route whose body is that model (the one that answers
    everything the direct handler does not, and that the OpenAPI document describes)."""
    for (method, path), (model, direct) in handlers.items():
        app.router.routes.insert(0, DirectJsonRoute(path, method, model, direct, app.router.app))
