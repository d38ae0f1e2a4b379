"""Schema-driven fuzz of the console's API (issue #13): requests that schemathesis derives from the
console's own OpenAPI, valid and invalid, sent twice over — without a session (every `/api` answer
but the sign-in must be a 401 or 403, never a 5xx) and as a signed-in centre operator with the
session's cookie and CSRF token (never a 5xx, never a hang).

The console runs on the session's event loop with its own schema and a group positioned at the end of
its input topics (it touches no other test's data). Its upstreams (intake, router, sla, scoring) are
unreachable addresses: what it asks them must come back as a dependency outage (502/503/504), not a
500. `/api/events` is a server-sent event stream that stays open by design, so the signed-in fuzz
leaves it out (signed out, it is a 401 like the rest)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import schemathesis
from schemathesis import GenerationMode

from deploy.local.stack import Stack
from services.console.adapters.http.auth import COOKIE
from services.console.app import create_app as console_app
from services.console.settings import ConsoleSettings
from tests.integration.conftest import serve
from tests.integration.fuzz_support import can_be_invalid, fuzz_operation
from tests.integration.test_scoring import input_end_offsets, start_group_at

pytestmark = pytest.mark.integration
EXAMPLES = 25
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, a connection is refused at once
OUTAGE = {502, 503, 504}
STREAMS = {"/api/events"}  # open until the client leaves: not a request with an answer to wait for
OPEN = {"/api/login", "/", "/console/", "/healthz", "/readyz"}  # answer without a session by design

SCHEMA = schemathesis.openapi.from_dict(console_app(ConsoleSettings()).openapi())
OPERATIONS = [(op.method.upper(), op.path) for op in (r.ok() for r in SCHEMA.get_all_operations())]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def _cases(signed_in: bool) -> list[tuple[str, str, GenerationMode]]:
    return [(method, path, mode) for method, path in OPERATIONS for mode in MODES
            if not (signed_in and path in STREAMS)
            if mode is GenerationMode.POSITIVE or can_be_invalid(SCHEMA.raw_schema["paths"][path][method.lower()])]


def _ids(cases: list[tuple[str, str, GenerationMode]]) -> list[str]:
    return [f"{m} {p} {'valid' if g is GenerationMode.POSITIVE else 'invalid'}" for m, p, g in cases]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def console(stack: Stack, city_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = ConsoleSettings(kafka_bootstrap=stack.bootstrap, database_url=stack.database_url,
                               schema_name="console_fuzz", group_id="gridline-console-fuzz", city_dir=city_dir,
                               intake_url=UNREACHABLE, router_url=UNREACHABLE, sla_url=UNREACHABLE,
                               scoring_url=UNREACHABLE, upstream_timeout_seconds=5)
    await start_group_at(stack.bootstrap, settings.group_id, await input_end_offsets(stack.bootstrap))
    async with serve(console_app(settings)) as client:
        yield client


async def _sign_in(console: httpx.AsyncClient) -> dict[str, str]:
    """A fresh centre session per operation (a fuzzed sign-out ends only its own)."""
    answer = await console.post("/api/login", json={"username": "centre", "password": "centre-demo"})
    assert answer.status_code == 200, answer.text
    return {"Cookie": f"{COOKIE}={answer.cookies[COOKIE]}", "X-CSRF-Token": answer.json()["csrf"]}


SIGNED_OUT = _cases(signed_in=False)
SIGNED_IN = _cases(signed_in=True)


@pytest.mark.parametrize(("method", "path", "mode"), SIGNED_OUT, ids=_ids(SIGNED_OUT))
async def test_without_a_session_every_api_answer_is_a_refusal_never_a_5xx(
    console: httpx.AsyncClient, method: str, path: str, mode: GenerationMode
) -> None:
    def judge(answer: httpx.Response, shown: str) -> None:
        assert answer.status_code < 500, shown
        if path not in OPEN:
            assert answer.status_code in {400, 401, 403, 404, 405, 422}, shown
            assert answer.status_code in {400, 401, 403} or mode is GenerationMode.NEGATIVE, shown  # 400: NUL

    await fuzz_operation(SCHEMA[path][method], mode, console, EXAMPLES, judge)


@pytest.mark.parametrize(("method", "path", "mode"), SIGNED_IN, ids=_ids(SIGNED_IN))
async def test_a_signed_in_operator_never_gets_a_5xx_but_an_upstream_outage_or_a_hang(
    console: httpx.AsyncClient, method: str, path: str, mode: GenerationMode
) -> None:
    def judge(answer: httpx.Response, shown: str) -> None:
        assert answer.status_code < 500 or answer.status_code in OUTAGE, shown

    session = await _sign_in(console)
    await fuzz_operation(SCHEMA[path][method], mode, console, EXAMPLES, judge, headers=session)


async def test_an_unreachable_upstream_is_an_outage_naming_it_not_a_500(console: httpx.AsyncClient) -> None:
    session = await _sign_in(console)
    for url in ("/api/cases/C-1", "/api/scores?period=2026-01", "/api/documents/D-1.html"):
        answer = await console.get(url, headers=session)
        assert answer.status_code in OUTAGE, f"{url} → {answer.status_code} {answer.text[:300]}"
        assert "unreachable" in answer.text, answer.text
    board = await console.get("/api/board", headers=session)  # the board shows what it has, and says what not
    assert board.status_code == 200, board.text
    assert board.json()["overdue"] == {**board.json()["overdue"], "available": False, "status": 503}


@pytest.mark.parametrize("url", ["/api/cases/C-%1F1", "/api/cases/C-%3F1%23x", "/api/documents/D-%1F.html"])
async def test_an_id_with_control_characters_or_query_marks_stays_one_upstream_path_segment(
    console: httpx.AsyncClient, url: str
) -> None:  # the control character was a 500 (httpx.InvalidURL building the upstream URL)
    answer = await console.get(url, headers=await _sign_in(console))
    assert answer.status_code in OUTAGE, answer.text


async def test_an_age_filter_beyond_any_date_is_a_422(console: httpx.AsyncClient) -> None:
    session = await _sign_in(console)  # 1e300 hours and inf were a 500 (OverflowError computing the cut-off)
    for age in ("1e300", "inf"):
        answer = await console.get(f"/api/cases?max_age_hours={age}", headers=session)
        assert answer.status_code == 422, answer.text
