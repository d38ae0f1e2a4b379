"""A router (and intake) running in-process for the session, against the real broker and database."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from deploy.local.stack import Stack
from services.intake.app import create_app as create_intake
from services.router.app import create_app as create_router
from services.router.settings import RouterSettings
from tests.integration.conftest import serve
from tests.integration.intake_support import intake_settings


def router_settings(stack: Stack, city_dir: Path, **overrides: Any) -> RouterSettings:
    return RouterSettings(kafka_bootstrap=stack.bootstrap, database_url=stack.database_url, city_dir=city_dir,
                          reload_interval_seconds=0.5, **overrides)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def list_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the responsibility list the session's router watches (the hot-reload test edits it)."""
    target = tmp_path_factory.mktemp("responsibility_list")
    shutil.copytree(RouterSettings().responsibility_list_dir, target, dirs_exist_ok=True)
    return target


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def router_client(stack: Stack, city_dir: Path, list_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_router(router_settings(stack, city_dir, responsibility_list_dir=list_dir))) as client:
        await until_ready(client)
        yield client


async def until_ready(client: httpx.AsyncClient, timeout: float = 180) -> None:
    """Wait for /readyz (database, broker, partitions assigned, loops settled): on a loaded machine the group
    join and the model load take longer than a test's own wait for its first case."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (await client.get("/readyz")).status_code != 200:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"router not ready after {timeout} s: {(await client.get('/readyz')).text}")
        await asyncio.sleep(0.2)


async def wait_for_case(
    client: httpx.AsyncClient, case_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> dict[str, Any]:
    """Poll the router's query API until the case satisfies `until` (the pipeline is asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        resp = await client.get(f"/v1/cases/{case_id}")
        if resp.status_code == 200:
            last = resp.json()
            if until(last):
                return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"case {case_id} never got there; last seen: {last.get('state')} {last.get('timeline')}")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def intake_client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_intake(intake_settings(stack))) as client:
        yield client
