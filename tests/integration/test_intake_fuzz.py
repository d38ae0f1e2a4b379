"""Schema-driven fuzz: bodies, paths and parameters that schemathesis derives from intake's own OpenAPI,
valid and invalid, sent with valid credentials to the running app. No answer may be a 5xx.

The app runs on its own event loop in a thread (hypothesis drives a synchronous test); requests reach it
through the ASGI transport. Bounded to 25 valid + 25 invalid examples per operation so the file runs in < 1 min.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.generation.case import Case

from deploy.local.stack import Stack
from services.intake.app import create_app
from services.intake.domain.credentials import issue_worker_token
from services.intake.settings import IntakeSettings
from tests.integration.conftest import serve
from tests.integration.fuzz_support import can_be_invalid
from tests.integration.intake_support import intake_settings

pytestmark = pytest.mark.integration
T = TypeVar("T")
SCHEMA = schemathesis.openapi.from_dict(create_app(IntakeSettings()).openapi())
OPERATIONS = [(op.method.upper(), op.path) for op in (r.ok() for r in SCHEMA.get_all_operations())]
_SPEC = create_app(IntakeSettings()).openapi()["paths"]


CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or can_be_invalid(_SPEC[path][method.lower()])
]
KEYS = {"/v1/hotline": "dev-hotline-key", "/v1/wechat": "dev-wechat-mini-key", "/v1/cases": "dev-dept-key",
        "/open311": "dev-open311-key"}


class LiveApp:
    """The intake app with its lifespan running on a private loop; `call` is synchronous."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._serving = serve(app)
        self.client: httpx.AsyncClient = self.run(self._serving.__aenter__())

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=60)

    def close(self) -> None:
        self.run(self._serving.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live(stack: Stack) -> Iterator[LiveApp]:
    app = LiveApp(create_app(intake_settings(stack, rate_per_second=10_000, rate_burst=10_000)))
    try:
        yield app
    finally:
        app.close()


def credentials(case: Case, worker_secret: str) -> dict[str, str]:
    if case.path == "/v1/grid/reports":
        worker = case.body.get("worker_id") if isinstance(case.body, dict) else None
        if not isinstance(worker, str) or not worker.isascii() or not worker.isprintable() or "." in worker:
            worker = "W0001"  # no token can carry that id: the request is refused, never a 5xx
        return {"Authorization": f"Bearer {issue_worker_token(worker_secret, worker)}"}
    for prefix, key in KEYS.items():
        if case.path.startswith(prefix):
            if prefix == "/open311" and isinstance(case.body, dict):
                case.body["api_key"] = key
                case.body["service_code"] = "A01.001"  # a code of services.json, and a place: go past those checks
                case.body.setdefault("address_string", "通江区人民东路128号")
            return {"X-Api-Key": key}
    return {}


def send(live: LiveApp, case: Case) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url="http://testserver",
                                      headers=credentials(case, IntakeSettings().worker_token_secret))
    request: dict[str, Any] = {k: kwargs[k] for k in ("method", "url", "headers", "params", "json", "files")
                               if kwargs.get(k) is not None}
    data = kwargs.get("data")
    if isinstance(data, bytes | str):
        request["content"] = data
    elif data is not None:
        request["data"] = data
    request["headers"] = {k: v for k, v in request.get("headers", {}).items() if "\x00" not in f"{k}{v}"}
    return live.run(live.client.request(**request))


@pytest.mark.parametrize(("method", "path", "mode"), CASES,
                         ids=[f"{m} {p} {'valid' if g is GenerationMode.POSITIVE else 'invalid'}" for m, p, g in CASES])
def test_no_generated_request_gets_a_5xx(live: LiveApp, method: str, path: str, mode: GenerationMode) -> None:
    operation = SCHEMA[path][method]
    fixed = {"account": "tongjiang"} if "{account}" in path else None

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode, path_parameters=fixed))
        answer = send(live, case)
        assert answer.status_code < 500, f"{case.as_curl_command()}\n→ {answer.status_code} {answer.text[:500]}"

    check()
