"""Session-wide harness: the real Kafka broker and PostgreSQL from deploy/local (profile `test`).

Unit tests never touch these fixtures; integration tests (tests/integration) do, and share one stack
per session. The stack starts clean every session unless GRIDLINE_TEST_REUSE_STACK=1.
"""

from __future__ import annotations

import os
import shutil

import pytest

from deploy.local import stack as local_stack


@pytest.fixture(scope="session")
def stack() -> local_stack.Stack:
    s = local_stack.stack_for("test")
    if not os.environ.get("GRIDLINE_TEST_REUSE_STACK"):
        local_stack.down(s)
        shutil.rmtree(s.kafka.home / "data", ignore_errors=True)
        if s.postgres is not None:
            shutil.rmtree(s.postgres.pgdata, ignore_errors=True)
    return local_stack.up(s)
