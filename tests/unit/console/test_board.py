"""超期 / 临期 board: the counts are sla's own totals, not a count of the (≤ 500) rows the console fetched."""

from __future__ import annotations

from services.console.domain.board import counts, tallies


def test_sla_counts_are_the_boards_totals_even_when_more_stages_exist_than_rows_fetched() -> None:
    rows = [{"case_id": "C-1", "street_id": "S1", "owner": "D1", "level": "grid", "community_id": "K1"}]
    body = {"items": rows, "total": 742,
            "counts": {"level": {"grid": 700, "street": 42}, "department": {"D1": 600, "D2": 142},
                       "street": {"S1": 742}, "community": {"K1": 500, "K2": 242}}}
    counted, total, source = tallies(body, rows)
    assert source == "sla" and total == 742
    assert counted == body["counts"]


def test_an_answer_without_counts_is_counted_from_its_rows_and_says_so() -> None:
    rows = [{"street_id": "S1", "owner": "D1", "level": "grid"}, {"street_id": "S1", "owner": "D2"}]
    counted, total, source = tallies(rows, rows)
    assert (source, total) == ("rows", 2)
    assert counted == counts(rows)
    assert counted["street"] == {"S1": 2} and counted["level"] == {"grid": 1, "—": 1}


def test_a_missing_dimension_in_slas_counts_is_empty_not_an_error() -> None:
    counted, total, source = tallies({"items": [], "counts": {"level": {"grid": 3}}}, [])
    assert (source, total) == ("sla", 3)
    assert counted["street"] == {} and counted["community"] == {}
