"""The local harness after a crash: a broker killed with SIGKILL but not yet reaped (a zombie child of
the process that started it) counts as stopped, so a restart right after the crash starts at once
instead of waiting out its timeout."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from deploy.local.kafka import KafkaNode, _running_pid


def test_a_killed_unreaped_broker_is_not_running(tmp_path: Path) -> None:
    node = KafkaNode(tmp_path, 1, 2)
    child = subprocess.Popen(["sleep", "60"])
    node.pid_file.write_text(str(child.pid))
    assert _running_pid(node) == child.pid
    os.kill(child.pid, signal.SIGKILL)
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, still unreaped: a zombie
    assert _running_pid(node) is None
    child.returncode = 0  # reaped by the harness; keep Popen from waiting on it again
