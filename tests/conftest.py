"""Session-wide harness: the real Kafka broker and PostgreSQL from deploy/local (profile `test`).

Unit tests never touch these fixtures; integration tests (tests/integration) do, and share one stack
per session. The stack starts clean every session and stops at its end, unless
GRIDLINE_TEST_REUSE_STACK=1 (then it is reused as it is and left running).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from deploy.local import stack as local_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[local_stack.Stack]:
    """Clean at the start and stopped at the end — unless reused (then left running for the next run)."""
    s = local_stack.stack_for("test")
    reuse = bool(os.environ.get("GRIDLINE_TEST_REUSE_STACK"))
    if not reuse:
        local_stack.down(s)
        shutil.rmtree(s.kafka.home / "data", ignore_errors=True)
        if s.postgres is not None:
            shutil.rmtree(s.postgres.pgdata, ignore_errors=True)
    yield local_stack.up(s)
    if not reuse:
        local_stack.down(s)
