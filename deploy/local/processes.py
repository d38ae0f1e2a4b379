"""Starting Gridline's services as processes for `make run` and the benchmarks, and stopping them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"intake": 8001, "router": 8002, "sla": 8003, "scoring": 8004, "console": 8005}
# Each suite that runs services as processes gets its own thousand, so a GRIDLINE_PORT_OFFSET (0…900 in steps of
# 100) never makes one checkout's suite land on another's ports; all stay below the ephemeral range (32768+),
# where a client connection could take a listener's port first.
SUITE_BASES = {"run": 8000, "router-crash": 11000, "chaos": 12000, "recovery": 13000, "e2e": 14000, "browser": 17000}


def suite_ports(suite: str, names: tuple[str, ...] | None = None) -> dict[str, int]:
    """The ports of `names` (default: every service in this checkout) for `suite`, shifted by GRIDLINE_PORT_OFFSET."""
    base = SUITE_BASES[suite] + int(os.environ.get("GRIDLINE_PORT_OFFSET", "0"))
    chosen = names if names is not None else tuple(available())
    return {n: base + SERVICES[n] % 100 for n in chosen}


def available(offset: int = 0) -> dict[str, int]:
    """Services present in this checkout (each has a __main__.py), on their ports shifted by `offset`."""
    return {n: p + offset for n, p in SERVICES.items() if (ROOT / "services" / n / "__main__.py").exists()}


def console_urls(ports: dict[str, int]) -> dict[str, str]:
    """Where the console finds the services it talks to (their HTTP APIs)."""
    return {f"CONSOLE_{n.upper()}_URL": f"http://127.0.0.1:{p}" for n, p in ports.items() if n != "console"}


@dataclass
class ServiceSet:
    env: dict[str, str]
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, names: dict[str, int]) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for name, port in names.items():
            # each service is one static member of its group, under the same name across its restarts:
            # one killed and started again takes its partitions back without waiting out its old session
            env = {**os.environ, "KAFKA_GROUP_INSTANCE_ID": f"{name}-0", **self.env, f"{name.upper()}_PORT": str(port)}
            out = (self.logs / f"{name}.log").open("ab")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, names: dict[str, int], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        pending = dict(names)
        while pending:
            for name, port in list(pending.items()):
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}); see {self.logs / (name + '.log')}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready: {sorted(pending)}; see {self.logs}")
            time.sleep(0.3)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, sig)
        proc.wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
