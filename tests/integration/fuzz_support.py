"""What the schema-driven fuzz tests share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.generation.case import Case

REQUEST_SECONDS = 30  # "no hang": a request that takes longer fails the test
Judge = Callable[[httpx.Response, str], None]


def no_5xx(answer: httpx.Response, shown: str) -> None:
    assert answer.status_code < 500, shown


def can_be_invalid(operation: dict[str, Any]) -> bool:
    """Invalid requests exist only where something can be got wrong: a body, a constrained parameter."""
    if "requestBody" in operation:
        return True
    for param in operation.get("parameters", []):
        constraints = set(param.get("schema", {})) - {"title", "description", "examples"}
        if constraints != {"type"} or param["schema"].get("type") != "string":
            return True
    return False


def request_kwargs(case: Case, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The case as httpx arguments; `headers` (a session's, say) replace the generated ones of that name."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    request: dict[str, Any] = {k: kwargs[k] for k in ("method", "url", "params", "json")
                               if kwargs.get(k) is not None}
    fixed = {k.lower() for k in headers or {}}
    request["headers"] = {**{k: v for k, v in (kwargs.get("headers") or {}).items()
                             if "\x00" not in f"{k}{v}" and k.lower() not in fixed}, **(headers or {})}
    data = kwargs.get("data")
    if isinstance(data, bytes | str):
        request["content"] = data
    return request


async def fuzz_operation(operation: Any, mode: GenerationMode, client: httpx.AsyncClient, examples: int,
                         judge: Judge = no_5xx, headers: dict[str, str] | None = None) -> None:
    """Hypothesis drives a synchronous check in a worker thread and hands each request to this loop,
    where the app runs; every answer is judged with the request shown as curl."""
    loop = asyncio.get_running_loop()

    def send(case: Case) -> httpx.Response:
        work = asyncio.wait_for(client.request(**request_kwargs(case, headers)), REQUEST_SECONDS)
        return asyncio.run_coroutine_threadsafe(work, loop).result(timeout=REQUEST_SECONDS + 5)

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode))
        answer = send(case)
        judge(answer, f"{case.as_curl_command()}\n→ {answer.status_code} {answer.text[:500]}")

    await asyncio.to_thread(check)
