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


def sampler(out: Path | None, pid: int | None = None, idle: bool = False) -> subprocess.Popen[bytes] | None:
    """Start py-spy on `pid` (this process by default); None when not asked or py-spy is missing. `idle`
    keeps the samples of a thread waiting (an event loop in `select`: time spent waiting on the database)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if out is None or not Path(spy).exists():
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([spy, "record", "--pid", str(pid or os.getpid()), "--rate", "200", "--format", "raw",
                             "--output", str(out), "--nonblocking", *(["--idle"] if idle else [])],
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
