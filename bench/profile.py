"""py-spy sampling of the benchmark's own process (the in-process service under test): raw collapsed
stacks written beside results.json, and the hottest frames summarised for docs/benchmarks.md."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path


def sampler(out: Path | None, pid: int | None = None, idle: bool = False,
            subprocesses: bool = False) -> subprocess.Popen[bytes] | None:
    """Start py-spy on `pid` (this process by default); None when not asked or py-spy is missing. `idle`
    keeps the samples of a thread waiting (an event loop in `select`: time spent waiting on the database)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if out is None or not Path(spy).exists():
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([spy, "record", "--pid", str(pid or os.getpid()), "--rate", "200", "--format", "raw",
                             "--output", str(out), "--nonblocking", *(["--idle"] if idle else []),
                             *(["--subprocesses"] if subprocesses else [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_sampler(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on interrupt
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()


def hottest(collapsed: Path, top: int = 15) -> dict[str, list[tuple[str, float]]]:
    """Share of samples per frame: `self` (the leaf: where time is spent) and `total` (anywhere on the
    stack: what the time is spent for)."""
    leaf: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1] + ")"
                  if " (" in f else f for f in stack.split(";")]
        samples += n
        leaf[frames[-1]] += n
        for f in set(frames):
            total[f] += n
    if not samples:
        return {"self": [], "total": []}
    return {"self": [(f, round(c / samples, 3)) for f, c in leaf.most_common(top)],
            "total": [(f, round(c / samples, 3)) for f, c in total.most_common(top * 2)],
            "samples": [("samples", float(samples))]}


# What a sample of intake or floor (c) is spent for: the innermost frame that falls in one of these parts.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("vault (cipher)", ("fernet.py", "cryptography/", "contact_cipher.py")),
    ("body hash, ids", ("domain/ids.py",)),
    ("normalise + masking", ("normalise.py", "privacy.py")),
    ("CloudEvent encode", ("cloudevents.py",)),
    ("produce: batches + spans", ("runtime/produce.py",)),
    ("aiokafka", ("aiokafka/",)),
    ("asyncpg (ledger)", ("asyncpg/",)),
    ("gateway", ("gateway.py",)),
    ("group commit", ("groupcommit.py",)),
    ("12345 adapter + responses", ("http/hotline.py", "http/responses.py")),
    ("guards (body, credentials, rate)", ("http/guards.py", "credentials.py", "ratelimit.py")),
    ("OpenTelemetry (SDK, ASGI)", ("opentelemetry/", "trace/", "asgi/", "context/", "_semconv", "util/",
                                   "runtime/telemetry.py")),
    ("metrics middleware", ("runtime/metrics.py", "prometheus_client")),
    ("pydantic", ("pydantic/",)),
    ("FastAPI", ("fastapi/",)),
    ("Starlette", ("starlette/",)),
    ("uvicorn + httptools", ("uvicorn/", "httptools")),
    ("event loop (uvloop, C)", ("asyncio/runners.py:118",)),
)


def attributed(collapsed: Path) -> list[tuple[str, float]]:
    """Share of the main thread's samples per part (PARTS), by the innermost frame that names one."""
    found: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit() or stack.startswith("Thread._bootstrap"):
            continue
        total += int(count)
        part = next((name for frame in reversed(stack.split(";")) for name, marks in PARTS
                     if any(mark in frame for mark in marks)), "other")
        found[part] += int(count)
    return [(name, round(n / total, 3)) for name, n in found.most_common()] if total else []
