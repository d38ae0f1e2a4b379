"""The fault suite (`make test-chaos`, run by CI after `make test`): tests that kill services, the
broker and the database. Each module owns the `chaos` stack, wiped at its start, stopped at its end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploy.local import stack as local_stack
from tests.integration.conftest import city_dir, own_stack  # noqa: F401  (city_dir: the synthetic city)


@pytest.fixture(scope="module")
def chaos_stack() -> Iterator[local_stack.Stack]:
    yield from own_stack("chaos")
