"""results.json is rewritten as each benchmark section finishes: a run cut off half-way keeps what it
measured, marked incomplete; the end of the run marks it complete."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import Results, Section
from bench.timing import Rate


def test_each_section_is_on_disk_as_soon_as_it_is_added_and_the_end_marks_the_run_complete(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    results = Results(out, ["--only", "pipeline"])
    results.add(Section("3. Router pipeline", [Rate("router", "incidents", (100.0, 120.0), 10, "")], []))
    first = json.loads(out.read_text())
    assert first["complete"] is False
    assert [s["title"] for s in first["sections"]] == ["3. Router pipeline"]

    results.add(Section("2. Intake", [], [], {"note": "x"}))
    results.write(complete=True)
    done = json.loads(out.read_text())
    assert done["complete"] is True
    assert [s["title"] for s in done["sections"]] == ["2. Intake", "3. Router pipeline"]
    assert done["argv"] == ["--only", "pipeline"]
