"""COPY text rows as the rebuild's fold workers hand them over (adapters/copy_text.py): PostgreSQL's text
format, with the values asyncpg's binary encoding would store (tests/integration/test_scoring_copy_text.py
reads awkward values back through PostgreSQL both ways)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from services.scoring.adapters import bulk, copy_text
from services.scoring.domain.facts import Fact, FactName
from services.scoring.domain.tallying import Recorded


def test_text_is_escaped_only_where_the_format_needs_it() -> None:
    assert copy_text.text("C-1 网格") == "C-1 网格"
    assert copy_text.text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert copy_text.text(None) == "\\N"


def test_values_of_every_column_type() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert copy_text.row_line(("x", 3, True, False, None, Decimal("97200.000000"),
                               datetime(2033, 1, 2, 9, 0, 0, 5, tzinfo=shanghai), datetime(2033, 1, 2))) == (
        "x\t3\tt\tf\t\\N\t97200.000000\t2033-01-02T09:00:00.000005+08:00\t2033-01-02T00:00:00+00:00\n")
    assert copy_text.timestamp(datetime(2033, 1, 2, tzinfo=UTC)) == "2033-01-02T00:00:00+00:00"


def test_a_fact_line_has_the_ledgers_columns_in_order() -> None:
    fact = Fact(FactName.RATED, "K1", "2033-01", Decimal(4), "", "DEPT_A", None,
                datetime(2033, 1, 5, 1, tzinfo=UTC))
    line = copy_text.fact_line(Recorded("CE-1", 2, fact, "00-ab-cd-01"))
    assert line.rstrip("\n").split("\t") == ["CE-1", "2", "K1", "2033-01", "rated", "", "4", "DEPT_A", "\\N",
                                             "2033-01-05T01:00:00+00:00", "00-ab-cd-01"]
    assert len(bulk.FACT_COLUMNS) == 11


def test_chunks_hold_whole_rows() -> None:
    chunks = list(copy_text.chunks((f"{i}\n" for i in range(12)), rows=5))
    assert chunks == [b"0\n1\n2\n3\n4\n", b"5\n6\n7\n8\n9\n", b"10\n11\n"]


def test_the_instants_asyncpg_writes_as_infinity_are_infinity() -> None:
    """asyncpg's binary encoding turns datetime.max and datetime.min (naive, or that instant in any zone) into
    PostgreSQL's ±infinity; the text rows must store what it stores (the rebuild's two paths, one ledger)."""
    assert copy_text.timestamp(datetime.max) == copy_text.timestamp(datetime.max.replace(tzinfo=UTC)) == "infinity"
    assert copy_text.timestamp(datetime.min) == "-infinity"
    assert copy_text.timestamp(datetime(1, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))) == "-infinity"
    assert copy_text.timestamp(datetime(9999, 12, 31, 23, 59, 59, 999998, tzinfo=UTC)) == (
        "9999-12-31T23:59:59.999998+00:00")
    assert copy_text.timestamp(datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=5)))) == (
        "0001-01-01T00:00:00+05:00")  # before datetime.min in UTC: written as it is, no overflow
