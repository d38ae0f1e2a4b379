"""主动治理 hotspots: ≥ 3 cases of one item within 200 m; a case counts in one hotspot only."""

from __future__ import annotations

from services.console.domain.hotspots import Sighting, distance_m, find_hotspots

M = 1 / 111_320  # about a metre of latitude in degrees


def at(case_id: str, north_m: float, item: str = "A01.001", lon: float = 120.9) -> Sighting:
    return Sighting(case_id, item, "垃圾", lon, 32.0 + north_m * M, "G1", "S1")


def test_distance_is_metres_within_a_percent() -> None:
    assert abs(distance_m(at("a", 0), at("b", 200)) - 200) < 2


def test_three_of_one_item_within_200_m_are_a_hotspot() -> None:
    found = find_hotspots([at("a", 0), at("b", 120), at("c", 190)], 200, 3)
    assert [(h.item_code, h.count, h.grid_id) for h in found] == [("A01.001", 3, "G1")]


def test_two_are_not_and_other_items_or_far_cases_do_not_count() -> None:
    spread = [at("a", 0), at("b", 150), at("c", 100, item="A04.001"), at("d", 600)]
    assert find_hotspots(spread, 200, 3) == []


def test_a_case_belongs_to_one_hotspot_only() -> None:
    line = [at(f"c{i}", i * 150) for i in range(6)]  # each neighbour 150 m apart
    found = find_hotspots(line, 200, 3)
    members = [cid for h in found for cid in h.case_ids]
    assert len(members) == len(set(members))
    assert all(h.count >= 3 for h in found)


def in_compound(case_id: str, north_m: float, compound: str | None, item: str = "A01.001") -> Sighting:
    return Sighting(case_id, item, "垃圾", 120.9, 32.0 + north_m * M, "G1", "S1", compound)


def test_three_of_one_item_in_one_compound_are_a_hotspot_named_by_it_however_spread() -> None:
    spread = [in_compound("a", 0, "幸福小区"), in_compound("b", 350, "幸福小区"), in_compound("c", 700, "幸福小区")]
    found = find_hotspots(spread, 200, 3)
    assert [(h.compound, h.count, h.case_ids) for h in found] == [("幸福小区", 3, ("a", "b", "c"))]


def test_too_few_in_a_compound_are_left_for_distance_and_named_by_none() -> None:
    near = [in_compound("a", 0, "幸福小区"), in_compound("b", 50, "幸福小区"), in_compound("c", 100, None),
            in_compound("d", 0, "和平小区", item="A04.001")]
    found = find_hotspots(near, 200, 3)
    assert [(h.compound, h.case_ids) for h in found] == [(None, ("a", "b", "c"))]


def test_a_case_in_a_compound_hotspot_is_not_counted_again_by_distance() -> None:
    cases = [in_compound(c, i * 10, "幸福小区") for i, c in enumerate("abc")] + [
        in_compound("d", 40, None), in_compound("e", 60, None)]
    found = find_hotspots(cases, 200, 3)
    assert [(h.compound, h.count) for h in found] == [("幸福小区", 3)]  # d and e alone are two: no hotspot
