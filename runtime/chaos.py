"""Fault injection for the crash tests: `GRIDLINE_CHAOS_KILL=in_transaction,after_db_commit,after_publish`
makes the process kill -9 itself at those points with probability `GRIDLINE_CHAOS_KILL_P` (default 0.1),
only in batches of at least two records, so a crash lands in the middle of a batch. Unset: no-op."""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Callable, Mapping

from runtime.logging import get_logger

log = get_logger(__name__)
STAGES = frozenset({"in_transaction", "after_db_commit", "after_publish"})


def from_env(env: Mapping[str, str] | None = None) -> Callable[[str, int], None]:
    env = os.environ if env is None else env
    stages = {s.strip() for s in env.get("GRIDLINE_CHAOS_KILL", "").split(",") if s.strip()}
    if unknown := stages - STAGES:
        raise ValueError(f"GRIDLINE_CHAOS_KILL: unknown stages {sorted(unknown)}; known: {sorted(STAGES)}")
    probability = float(env.get("GRIDLINE_CHAOS_KILL_P", "0.1"))
    rng = random.Random()

    def maybe_kill(stage: str, size: int) -> None:
        if stage in stages and size >= 2 and rng.random() < probability:
            log.warning("chaos_kill", stage=stage, batch=size)
            os.kill(os.getpid(), signal.SIGKILL)

    return maybe_kill
