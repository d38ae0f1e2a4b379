"""Schema-driven fuzz of router, sla and scoring: requests that schemathesis derives from each service's
own OpenAPI, valid and invalid, sent to the running service. No answer may be a 5xx, none may hang
(each request has a time limit). Intake has its own fuzz (test_intake_fuzz.py: credentials, bodies).

The services run on the session's event loop (the router is the session's own; sla and scoring are
started here on groups positioned at the end of their input topics, so they touch no other test's
data); hypothesis drives a synchronous check in a worker thread and hands each request to that loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import schemathesis
from schemathesis import GenerationMode

from deploy.local.stack import Stack
from services.router.app import create_app as router_app
from services.scoring.app import create_app as scoring_app
from services.scoring.settings import ScoringSettings
from services.sla.app import create_app as sla_app
from services.sla.settings import SlaSettings
from tests.integration.conftest import serve
from tests.integration.fuzz_support import can_be_invalid, fuzz_operation
from tests.integration.test_scoring import input_end_offsets, start_group_at

pytestmark = pytest.mark.integration
EXAMPLES = 25


def _schema(app: Any) -> Any:
    return schemathesis.openapi.from_dict(app.openapi())


SCHEMAS = {
    "router": _schema(router_app()),
    "sla": _schema(sla_app(SlaSettings())),
    "scoring": _schema(scoring_app(ScoringSettings())),
}
CASES = [
    (service, op.method.upper(), op.path, mode)
    for service, schema in SCHEMAS.items()
    for op in (r.ok() for r in schema.get_all_operations())
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or can_be_invalid(schema.raw_schema["paths"][op.path][op.method])
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def clients(stack: Stack, router_client: httpx.AsyncClient) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    base = {"kafka_bootstrap": stack.bootstrap, "database_url": stack.database_url}
    sla = SlaSettings(**base, schema_name="sla_fuzz", group_id="gridline-sla-fuzz", timer_enabled=False)
    scoring = ScoringSettings(**base, schema_name="scoring_fuzz", group_id="gridline-scoring-fuzz",
                              from_committed=True)
    offsets = await input_end_offsets(stack.bootstrap)
    for group in (sla.group_id, scoring.group_id):
        await start_group_at(stack.bootstrap, group, offsets)
    async with serve(sla_app(sla)) as sla_client, serve(scoring_app(scoring)) as scoring_client:
        yield {"router": router_client, "sla": sla_client, "scoring": scoring_client}


@pytest.mark.parametrize(("service", "method", "path", "mode"), CASES,
                         ids=[f"{s} {m} {p} {'valid' if g is GenerationMode.POSITIVE else 'invalid'}"
                              for s, m, p, g in CASES])
async def test_no_generated_request_gets_a_5xx_or_hangs(
    clients: dict[str, httpx.AsyncClient], service: str, method: str, path: str, mode: GenerationMode
) -> None:
    await fuzz_operation(SCHEMAS[service][path][method], mode, clients[service], EXAMPLES)


NUL_REQUESTS = [
    ("router", "/v1/cases?owner=%00"),  # was a 500: asyncpg CharacterNotInRepertoireError
    ("router", "/v1/cases?street=TJ%0003"),
    ("router", "/v1/cases/C-%00"),
    ("sla", "/v1/sla/overdue?department=%00"),
    ("sla", "/v1/sla/cases/C-%00"),
    ("scoring", "/v1/ruler?version=%00"),
]


@pytest.mark.parametrize(("service", "url"), NUL_REQUESTS)
async def test_a_nul_byte_in_the_path_or_query_is_a_400(
    clients: dict[str, httpx.AsyncClient], service: str, url: str
) -> None:
    answer = await clients[service].get(url)
    assert answer.status_code == 400, answer.text
    assert "NUL" in answer.json()["detail"]
