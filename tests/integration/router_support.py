"""A router (and intake) running in-process for the session, against the real broker and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
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
async def router_client(stack: Stack, city_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_router(router_settings(stack, city_dir))) as client:
        yield client


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def intake_client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_intake(intake_settings(stack))) as client:
        yield client
