"""The published ruler is validated with file:line errors; a bad ruler never scores anyone."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from services.scoring.domain.ruler_files import RulerValidationError, load_rulers, parse_ruler

RULERS = Path(__file__).resolve().parents[3] / "services" / "scoring" / "data" / "ruler"
SHIPPED = (RULERS / "2026.11-1.yaml").read_text(encoding="utf-8")


def line_containing(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


def problems_of(text: str) -> list[str]:
    with pytest.raises(RulerValidationError) as caught:
        parse_ruler(text, "r.yaml")
    return [str(p) for p in caught.value.problems]


def test_the_shipped_ruler_is_valid_and_weights_sum_to_100_for_every_type() -> None:
    book = load_rulers(RULERS)
    for indicators in book.current.entity_types.values():
        assert sum(i.weight for i in indicators) == 100
    assert book.for_period("2026-11") is book.current
    assert book.for_period("2025-12") is None


def test_weights_that_do_not_sum_to_100_point_at_the_entity_type() -> None:
    text = SHIPPED.replace("weight: 25\n    - code: report_quality", "weight: 30\n    - code: report_quality")
    [problem] = problems_of(text)
    assert problem.startswith(f"r.yaml:{line_containing(text, '  grid_worker:')}: grid_worker: weights sum to 105")
    assert "reports 30 + report_quality 25" in problem


def test_an_unknown_fact_points_at_its_line() -> None:
    text = SHIPPED.replace("fact: on_the_spot}", "fact: on_the_spott}")
    [problem] = problems_of(text)
    assert problem.startswith(f"r.yaml:{line_containing(text, 'on_the_spott')}:")
    assert "on_the_spott" in problem


def test_a_direction_contradicting_its_normalisation_points_at_the_indicator() -> None:
    before = "direction: lower\n      normalise: {worst: 48"
    text = SHIPPED.replace(before, before.replace("lower", "higher"))
    [problem] = problems_of(text)
    assert problem.startswith(f"r.yaml:{line_containing(text, 'code: verification_timeliness')}:")
    assert "direction higher needs best > worst" in problem


def test_every_problem_is_reported_at_once() -> None:
    text = SHIPPED.replace("fact: on_the_spot}", "fact: nope}").replace(
        "weight: 25\n    - code: report_quality", "weight: 30\n    - code: report_quality")
    problems = problems_of(text)
    assert len(problems) == 2
    assert "weights sum to 105" in problems[0] and "'nope'" in problems[1]


def test_yaml_errors_and_empty_files_have_lines() -> None:
    assert problems_of("version: [unclosed\n")[0].startswith("r.yaml:2: YAML")
    assert problems_of("") == ["r.yaml:1: the file is empty"]


def test_every_entity_type_must_be_scored() -> None:
    text = SHIPPED.split("  street: *place")[0]
    assert problems_of(text) == [f"r.yaml:{line_containing(text, 'entity_types:')}: no indicators for street"]


def test_numbers_are_exact_decimals() -> None:
    text = SHIPPED.replace("weight: 25\n    - code: report_quality", "weight: 24.9\n    - code: report_quality")
    text = text.replace("weight: 20\n    - code: on_the_spot", "weight: 20.1\n    - code: on_the_spot")
    ruler = parse_ruler(text, "r.yaml")  # 24.9 + 20.1 is exactly 45 as decimals
    assert ruler.entity_types[next(iter(ruler.entity_types))][0].weight == Decimal("24.9")


def test_the_file_name_is_the_version(tmp_path: Path) -> None:
    (tmp_path / "2026.12-1.yaml").write_text(SHIPPED, encoding="utf-8")
    with pytest.raises(RulerValidationError, match=r"declares version 2026\.11-1 but is named 2026\.12-1\.yaml"):
        load_rulers(tmp_path)


def test_a_newer_version_scores_the_periods_from_its_effective_month(tmp_path: Path) -> None:
    (tmp_path / "2026.11-1.yaml").write_text(SHIPPED, encoding="utf-8")
    newer = SHIPPED.replace('version: "2026.11-1"', 'version: "2027.01-1"').replace(
        'effective_from: "2026-01"', 'effective_from: "2027-01"')
    (tmp_path / "2027.01-1.yaml").write_text(newer, encoding="utf-8")
    book = load_rulers(tmp_path)
    assert book.current.version == "2027.01-1"
    assert book.for_period("2026-12").version == "2026.11-1"  # type: ignore[union-attr]
    assert book.for_period("2027-03").version == "2027.01-1"  # type: ignore[union-attr]
