"""The local harness after a crash: a broker killed with SIGKILL but not yet reaped (a zombie child of
the process that started it) counts as stopped, so a restart right after the crash starts at once
instead of waiting out its timeout; and stopping the stack always reaches PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from deploy.local import stack as local_stack
from deploy.local.kafka import KafkaNode, _running_pid
from deploy.local.postgres import PostgresNode


def test_a_killed_unreaped_broker_is_not_running(tmp_path: Path) -> None:
    node = KafkaNode(tmp_path, 1, 2)
    child = subprocess.Popen(["sleep", "60"])
    node.pid_file.write_text(str(child.pid))
    assert _running_pid(node) == child.pid
    os.kill(child.pid, signal.SIGKILL)
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, still unreaped: a zombie
    assert _running_pid(node) is None
    child.returncode = 0  # reaped by the harness; keep Popen from waiting on it again


def test_stopping_the_stack_stops_postgresql_even_when_stopping_kafka_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[str] = []

    def kafka_stop(_: object) -> None:
        raise KeyboardInterrupt  # a second Ctrl-C while the broker shuts down

    monkeypatch.setattr(local_stack.kafka, "stop", kafka_stop)
    monkeypatch.setattr(local_stack.postgres, "stop", lambda node: stopped.append(str(node.port)))
    stack = local_stack.Stack("run", KafkaNode(tmp_path, 1, 2), PostgresNode(tmp_path / "pg", 15432), "db")
    with pytest.raises(KeyboardInterrupt):
        local_stack.down(stack)
    assert stopped == ["15432"]


def test_no_profile_listens_in_the_ephemeral_range_or_on_another_profiles_port() -> None:
    """Outgoing client connections take ports from 32768–60999 (Linux's default range); a broker or
    database listening there can fail to bind during a busy run. Offsets 0–900 are what checkouts use."""
    taken: dict[int, str] = {}
    for offset in range(0, 1000, 100):
        for profile, ports in local_stack.PORTS.items():
            for port in ports:
                shifted = port + offset
                assert shifted < 32768, (profile, offset, shifted)
                owner = taken.setdefault(shifted, f"{profile}+{offset}")
                assert owner == f"{profile}+{offset}", (shifted, owner, profile, offset)
