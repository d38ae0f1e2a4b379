"""CPU time of the processes a benchmark runs on, from /proc: what an item costs, whatever else the
machine is doing (a shared box stretches wall time, not CPU time)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from deploy.local.stack import Stack


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stack_pids(stack: Stack) -> dict[str, list[int]]:
    """The broker's process, and PostgreSQL's postmaster with its backends (its children)."""
    found: dict[str, list[int]] = {"kafka": [int(stack.kafka.pid_file.read_text())], "postgres": []}
    if stack.postgres is not None:
        master = int((stack.postgres.pgdata / "postmaster.pid").read_text().split()[0])
        found["postgres"] = [master] + [
            int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit() and parent(int(d.name)) == master]
    return found


def parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except (OSError, ValueError, IndexError):
            pass  # a backend that ended meanwhile
    return total


class Meter:
    """CPU seconds spent since it was made by this process (`process`), by the stack's broker (`kafka`) and
    database (`postgres`: postmaster and backends) and by `others` (name → pids); a process started
    meanwhile counts whole, one that ended meanwhile is lost."""

    def __init__(self, stack: Stack, others: dict[str, list[int]] | None = None) -> None:
        self.stack = stack
        self.process = time.process_time()
        self.start = {pid: cpu_of([pid]) for pids in self._pids(others).values() for pid in pids}

    def _pids(self, others: dict[str, list[int]] | None) -> dict[str, list[int]]:
        return {**stack_pids(self.stack), **(others or {})}

    def read(self, others: dict[str, list[int]] | None = None) -> dict[str, float]:
        spent = {"process": time.process_time() - self.process}
        for name, pids in self._pids(others).items():
            spent[name] = sum(cpu_of([p]) - self.start.get(p, 0.0) for p in pids)
        return spent
