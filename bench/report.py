"""The table printed at the end of a run, and results.json beside it."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.timing import Rate, Ratio


@dataclass
class Section:
    title: str
    rates: list[Rate]
    ratios: list[Ratio]
    facts: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def _rate_line(rate: Rate) -> str:
    samples = len(rate.samples)
    return (f"  {rate.name:<44} {rate.median:>10,.0f} {rate.unit + '/s':<18} {rate.spread * 100:>5.0f}%"
            f"  {rate.items:>5}×{samples}  {rate.notes}")


def _ratio_line(ratio: Ratio) -> str:
    paired = ", ".join(f"{r:.3g}" for r in ratio.paired) or "-"
    return f"  {ratio.name:<44} {ratio.value:>10.3g}   (per round: {paired})  {ratio.meaning}"


def render(sections: list[Section], started: dict[str, Any], ended: dict[str, Any], seconds: float) -> str:
    lines = [
        f"Gridline benchmarks — {started['cpus']} CPUs, Python {started['python']}, "
        f"load average {started['load_average'][0]} at start, {ended['load_average'][0]} at end, {seconds:.0f} s",
        "Rates are medians over repetitions; spread = (max - min) / median of the repetitions; "
        "n×reps = items per repetition × repetitions.",
    ]
    for section in sections:
        header = f"  {'':<44} {'median':>10} {'':<18} {'spread':>6}  n×reps"
        lines += ["", section.title, header, *(_rate_line(r) for r in section.rates), "  ratios (subject / baseline):",
                  *(_ratio_line(q) for q in section.ratios)]
        if section.facts:
            lines.append("  " + "; ".join(f"{k}: {v}" for k, v in section.facts.items()))
    return "\n".join(lines)


def write_json(path: Path, sections: list[Section], started: dict[str, Any], ended: dict[str, Any],
               seconds: float, argv: list[str], *, complete: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "argv": argv, "seconds": round(seconds, 1),
        "complete": complete, "machine_at_start": started, "machine_at_end": ended,
        "sections": [{"title": s.title, "rates": [r.as_json() for r in s.rates],
                      "ratios": [q.as_json() for q in s.ratios], "facts": s.facts} for s in sections],
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    tmp.replace(path)  # a reader (or a cut-off run) never sees half a file


class Results:
    """The run's sections so far; results.json is rewritten as each one finishes (`"complete": false`
    until the end), so a run cut off half-way keeps what it measured."""

    def __init__(self, path: Path, argv: list[str]) -> None:
        self.path, self.argv = path, argv
        self.started, self.began = machine(), time.perf_counter()
        self.sections: list[Section] = []

    def add(self, section: Section) -> None:
        self.sections.append(section)
        self.write(complete=False)

    def write(self, *, complete: bool) -> None:
        ordered = sorted(self.sections, key=lambda s: s.title)
        write_json(self.path, ordered, self.started, machine(), time.perf_counter() - self.began, self.argv,
                   complete=complete)
