"""The responsibility list (权责清单) is data; a bad list is refused with every problem and its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.router.domain.departments import DEPARTMENT_CODES, LOCATIONAL_OWNERS
from services.router.domain.durations import Duration, DurationUnit, parse_duration
from services.router.domain.responsibility import ListValidationError, Problem, ResponsibilityList
from tests.unit.router._lists import item, line_containing, load, write_list


def problems_of(directory: Path) -> tuple[Problem, ...]:
    with pytest.raises(ListValidationError) as caught:
        load(directory)
    return caught.value.problems


# The repository's list


def test_repository_list_is_valid_versioned_and_large_enough(repo_list: ResponsibilityList) -> None:
    assert repo_list.version == "2026.12-1"
    assert len(repo_list.items) >= 110
    assert [c.code for c in repo_list.classes] == ["A", "B", "C", "D"]
    assert all(c.item_codes for c in repo_list.classes)


def test_trivial_matters_stay_low_grid_community_and_street_own_many_items(
    repo_list: ResponsibilityList,
) -> None:
    local = [i for i in repo_list.items if i.owner in LOCATIONAL_OWNERS]
    assert len(local) >= 20
    assert {i.owner for i in local} == LOCATIONAL_OWNERS


def test_dedicated_hospital_items_are_owned_by_health(repo_list: ResponsibilityList) -> None:
    hospital = [i for i in repo_list.items
                if i.conditions.dedicated_types and "hospital" in i.conditions.dedicated_types]
    assert hospital and all(i.owner == "HEALTH" for i in hospital)


def test_manhole_item_has_its_deadlines_and_ladder(repo_list: ResponsibilityList) -> None:
    manhole = repo_list.item("A04.001")
    assert manhole.owner == "URBAN_MGMT" and manhole.level == "district"
    assert manhole.deadlines.accept == Duration(amount=30, unit=DurationUnit.MINUTES, working=False)
    assert manhole.escalation == ("supervision",)


# Validation, each problem with file and line


def test_unknown_department_is_reported_with_its_line(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001"), item("A01.002", owner="ROADS_BUREAU"))
    [problem] = problems_of(tmp_path)
    assert problem.item_code == "A01.002"
    assert problem.file == "a.yaml"
    assert problem.line == line_containing(tmp_path / "a.yaml", "ROADS_BUREAU")
    assert "unknown department 'ROADS_BUREAU'" in problem.message


def test_unknown_alternate_is_reported(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", alternates=["NOBODY"]))
    [problem] = problems_of(tmp_path)
    assert "NOBODY" in problem.message


def test_duplicate_codes_are_reported_with_the_first_location(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001"), item("A01.001", keywords={"别的词": 3.0}))
    [problem] = problems_of(tmp_path)
    first = line_containing(tmp_path / "a.yaml", "code: A01.001")
    assert problem.line == line_containing(tmp_path / "a.yaml", "code: A01.001", after=first)
    assert f"first defined at a.yaml:{first}" in problem.message


def test_missing_deadlines_are_reported(tmp_path: Path) -> None:
    without = item("A01.001")
    del without["deadlines"]
    write_list(tmp_path, without)
    [problem] = problems_of(tmp_path)
    assert problem.item_code == "A01.001" and "deadlines" in problem.message


def test_bad_duration_syntax_is_reported_with_its_line(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", deadlines={"accept": "2 hours", "handle": "3wd", "clock": "working"}))
    [problem] = problems_of(tmp_path)
    assert problem.line == line_containing(tmp_path / "a.yaml", "2 hours")
    assert "bad duration '2 hours'" in problem.message


def test_escalation_ladder_must_start_above_the_items_level(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", owner="COMMUNITY", level="community",
                              escalation=["community", "street", "supervision"]))
    [problem] = problems_of(tmp_path)
    assert "start above the item's level community" in problem.message


def test_escalation_ladder_must_be_strictly_ascending(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", owner="GRID", level="grid",
                              escalation=["street", "community", "supervision"]))
    [problem] = problems_of(tmp_path)
    assert "strictly ascending" in problem.message


def test_escalation_ladder_must_end_at_a_supervision_order(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", owner="STREET", level="street", escalation=["district"]))
    [problem] = problems_of(tmp_path)
    assert "end at supervision" in problem.message


def test_an_item_gives_rungs_of_its_ladder_their_own_limits(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", owner="GRID", level="grid", escalation=["community", "street", "supervision"],
                              rung_limits={"community": "4h", "supervision": "5wd"}))
    loaded = load(tmp_path).item("A01.001")
    assert {step: str(limit) for step, limit in loaded.rung_limits.items()} == {"community": "4h", "supervision": "5wd"}
    assert loaded.rung_limits["supervision"].working


def test_a_rung_limit_for_a_rung_not_on_the_ladder_is_reported_with_its_line(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", owner="GRID", level="grid", escalation=["street", "supervision"],
                              rung_limits={"community": "4h"}))
    [problem] = problems_of(tmp_path)
    assert problem.item_code == "A01.001" and problem.line == line_containing(tmp_path / "a.yaml", "community: 4h")
    assert "rung community is not on the item's ladder" in problem.message


def test_a_bad_rung_limit_is_reported(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", rung_limits={"supervision": "soon"}))
    [problem] = problems_of(tmp_path)
    assert "bad duration 'soon'" in problem.message


def test_locational_owner_works_at_its_own_level(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", owner="GRID", level="street"))
    [problem] = problems_of(tmp_path)
    assert "owner GRID handles at level grid" in problem.message


def test_overlapping_items_without_priority_are_rejected(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", keywords={"井盖": 3.0}),
               item("A01.002", keywords={"井盖": 2.5, "破损": 1.0}))
    [problem] = problems_of(tmp_path)
    assert problem.item_code == "A01.002"
    assert "ambiguous with A01.001: shares 井盖" in problem.message


def test_overlapping_items_with_distinct_priorities_are_accepted(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", keywords={"井盖": 3.0}),
               item("A01.002", keywords={"井盖": 3.0}, priority=1))
    assert len(load(tmp_path).items) == 2


def test_items_with_disjoint_conditions_may_share_keywords(tmp_path: Path) -> None:
    write_list(tmp_path,
               item("A01.001", keywords={"施工": 3.0}, conditions={"hours": "06:00-22:00"}),
               item("A01.002", keywords={"施工": 3.0}, conditions={"hours": "22:00-06:00"}))
    assert len(load(tmp_path).items) == 2


def test_sharing_only_weak_keywords_is_not_an_overlap(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", keywords={"井盖": 3.0, "破损": 1.0}),
               item("A01.002", keywords={"路灯": 3.0, "破损": 1.0}))
    assert len(load(tmp_path).items) == 2


def test_item_without_keywords_is_unreachable_unless_code_only(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", keywords={}), item("A01.002", keywords={}, code_only=True))
    [problem] = problems_of(tmp_path)
    assert problem.item_code == "A01.001" and "unreachable" in problem.message


def test_single_character_keywords_are_refused(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", keywords={"火": 3.0}))
    [problem] = problems_of(tmp_path)
    assert "shorter than two characters" in problem.message


def test_empty_class_is_rejected(tmp_path: Path) -> None:
    write_list(tmp_path, class_text="items: []\n")
    [problem] = problems_of(tmp_path)
    assert "class A has no items" in problem.message


def test_list_without_classes_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text('version: "1"\neffective_from: "2026-11-01"\nclasses: []\n')
    [problem] = problems_of(tmp_path)
    assert problem.file == "list.yaml" and "classes" in problem.message


def test_yaml_syntax_error_points_at_its_line(tmp_path: Path) -> None:
    write_list(tmp_path, class_text="items:\n  - code: \"A01.001\"\n    name: [unclosed\n")
    [problem] = problems_of(tmp_path)
    assert problem.file == "a.yaml" and problem.line is not None and "YAML" in problem.message


def test_item_code_must_belong_to_its_class(tmp_path: Path) -> None:
    write_list(tmp_path, item("B01.001"))
    [problem] = problems_of(tmp_path)
    assert "does not belong to class A" in problem.message


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001", owner="NOBODY"), item("A01.002", level="city"),
               item("A01.003", keywords={}))
    problems = problems_of(tmp_path)
    assert [p.item_code for p in problems] == ["A01.002", "A01.001", "A01.003"]
    assert all(p.line is not None for p in problems)


# Durations


@pytest.mark.parametrize(
    ("text", "amount", "unit", "working"),
    [("30m", 30, DurationUnit.MINUTES, False), ("2h", 2, DurationUnit.HOURS, False),
     ("1d", 1, DurationUnit.DAYS, False), ("3wd", 3, DurationUnit.WORKING_DAYS, True)],
)
def test_parse_duration_reads_amount_unit_and_working_flag(
    text: str, amount: int, unit: DurationUnit, working: bool
) -> None:
    assert parse_duration(text) == Duration(amount=amount, unit=unit, working=working)


@pytest.mark.parametrize("text", ["", "3", "wd", "0h", "1.5h", "3 wd", "2w", "-1d"])
def test_parse_duration_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from(list(DurationUnit)))
def test_a_duration_reads_back_from_its_text(amount: int, unit: DurationUnit) -> None:
    duration = parse_duration(f"{amount}{unit.value}")
    assert parse_duration(str(duration)) == duration


def test_every_department_of_the_repository_list_names_a_default_item_it_owns(
    repo_list: ResponsibilityList,
) -> None:
    for owner in (DEPARTMENT_CODES | LOCATIONAL_OWNERS) - {"CENTER"}:
        default = repo_list.default_item(owner)
        assert default is not None, f"{owner} has no default item"
        assert default.owner == owner


def test_an_owner_without_a_default_item_is_reported(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001"), item("A01.002", owner="HOUSING"), defaults={"URBAN_MGMT": "A01.001"})
    [problem] = problems_of(tmp_path)
    assert problem.file == "list.yaml" and "HOUSING owns items but names no default item" in problem.message


def test_a_default_item_must_exist_and_be_owned_by_its_department(tmp_path: Path) -> None:
    write_list(tmp_path, item("A01.001"), item("A01.002", owner="HOUSING"),
               defaults={"URBAN_MGMT": "A01.009", "HOUSING": "A01.001"})
    problems = problems_of(tmp_path)
    assert {p.message for p in problems} == {
        "default item A01.009 of URBAN_MGMT is not in the list",
        "default item A01.001 of HOUSING is owned by URBAN_MGMT",
    }
    lines = {p.item_code: p.line for p in problems}
    assert lines["A01.009"] == line_containing(tmp_path / "list.yaml", "URBAN_MGMT: A01.009")
