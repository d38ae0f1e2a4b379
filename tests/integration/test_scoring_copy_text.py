"""COPY text rows as the rebuild's fold workers write them (services/scoring/adapters/copy_text.py), read back
through PostgreSQL's own parsing: awkward values — NULL, empty text, tabs, newlines, carriage returns,
backslashes, a literal `\\N`, non-BMP Chinese, other control characters, times in zones (with seconds in
the offset, across midnight, a DST fold, naive), decimals of every scale — COPYed in as text read back as
the same values, and as the same rows COPYed with asyncpg's binary encoding (what the one-process rebuild
writes)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from deploy.local.stack import Stack
from runtime.db import migrate
from services.scoring.adapters import bulk, copy_text, ledger
from services.scoring.domain.facts import Fact, FactName
from services.scoring.domain.tallying import Recorded

pytestmark = pytest.mark.integration
SQL = Path(ledger.__file__).resolve().parents[1] / "sql"

TEXTS: list[str | None] = [
    None, "", "C-1 网格", "tab\there", "new\nline", "carriage\rreturn", "crlf\r\n", "back\\slash", "\\N", "\\.",
    "\\", "ends with a backslash\\", "a literal \\t, not a tab", "𠀀𪚥𰻞 通江区 (outside the BMP)", "🚒 火警",
    "\x0b vertical tab \x0c form feed \x08 backspace \x7f delete", "\x85 NEL \u2028 LS \u2029 PS", " spaces  ",
    "\t\n\\\r", "'quotes' \"double\" ,comma; semicolon|pipe",
]
DECIMALS = [Decimal("0"), Decimal("-0"), Decimal("1"), Decimal("97200.000000"), Decimal("0.000001"), Decimal("1.50"),
            Decimal("-12345678901234567890.123456789"), Decimal("1E+3"), Decimal("1E-30"), Decimal("4.5e2"),
            Decimal("NaN")]
SHANGHAI = ZoneInfo("Asia/Shanghai")
TIMES: list[datetime | None] = [
    None,
    datetime(2033, 1, 2, 9, 0, 0, 5, tzinfo=timezone(timedelta(hours=8))),
    datetime(2033, 1, 2, tzinfo=UTC),
    datetime(2033, 1, 2, 3, 4, 5, 678901),  # naive: UTC, as asyncpg takes it
    datetime(2033, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=-5))),  # another day in UTC
    datetime(2033, 7, 1, 12, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    datetime(2033, 7, 1, 12, tzinfo=timezone(timedelta(hours=5, minutes=45))),
    datetime(2033, 7, 1, 12, tzinfo=timezone(timedelta(hours=1, seconds=30))),  # seconds in the offset
    datetime(1900, 6, 1, 12, tzinfo=SHANGHAI),  # local mean time: +08:05:43
    datetime(2033, 11, 6, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),  # the second 01:30 (EST)
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]
COLUMNS = ("n", "t", "i", "s", "b", "d", "at", "j")


def awkward_rows() -> list[tuple[object, ...]]:
    """Every text, decimal and time at least once, with the other column types row_line writes."""
    count = max(len(TEXTS), len(DECIMALS), len(TIMES))
    document = json.dumps({"tab": "a\tb", "slash": "\\", "quote": "\"", "far": "𠀀", "near": "网格"})
    return [(n, TEXTS[n % len(TEXTS)], [0, -2**63, 2**63 - 1][n % 3], [0, -32768, 32767][n % 3],
             [True, False, None][n % 3], DECIMALS[n % len(DECIMALS)], TIMES[n % len(TIMES)],
             [document, None, "[]"][n % 3]) for n in range(count)]


def awkward_facts() -> list[Recorded]:
    count = max(len(TEXTS), len(DECIMALS), len(TIMES))
    texts = [t for t in TEXTS if t is not None]
    return [Recorded(f"CE-{texts[n % len(texts)]}", n, Fact(
        FactName.RATED, case_id=texts[(n + 1) % len(texts)], period="2033-01", value=DECIMALS[n % len(DECIMALS)],
        tag=texts[(n + 2) % len(texts)], department=TEXTS[(n + 3) % len(TEXTS)], worker=TEXTS[(n + 4) % len(TEXTS)],
        at=TIMES[n % len(TIMES)]), TEXTS[(n + 5) % len(TEXTS)]) for n in range(count)]


async def source(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def comparable(rows: Sequence[asyncpg.Record]) -> list[tuple[object, ...]]:
    """Rows with their decimals as text (NaN is not equal to itself; the text keeps the scale too)."""
    return [tuple(str(v) if isinstance(v, Decimal) else v for v in row.values()) for row in rows]


def stored(value: object) -> object:
    """A value as it compares with what it reads back as: a time as its instant in UTC (a naive one is UTC, as
    asyncpg takes it; ±infinity reads back naive); a decimal by value (PostgreSQL has no -0), NaN (not equal
    to itself) by its text."""
    if isinstance(value, datetime):  # as an instant in UTC: a time in a DST fold compares unequal across zones
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return "NaN" if isinstance(value, Decimal) and value.is_nan() else value


async def test_awkward_values_copied_as_text_read_back_as_themselves_and_as_the_binary_copy_gives(
    stack: Stack, schema: str
) -> None:
    await migrate(stack.database_url, schema, SQL)  # the ledger's own `facts` table
    conn = await asyncpg.connect(stack.database_url, server_settings={"search_path": schema})
    try:
        await conn.execute("CREATE TABLE awkward (n int PRIMARY KEY, t text, i bigint, s smallint, b boolean, "
                           "d numeric, at timestamptz, j jsonb)")
        await conn.execute("CREATE TABLE awkward_binary (LIKE awkward INCLUDING ALL)")
        await conn.execute("CREATE TABLE facts_binary (LIKE facts INCLUDING ALL)")
        rows, facts = awkward_rows(), awkward_facts()
        await bulk.copy_text(conn, "awkward", COLUMNS, source(copy_text.chunks(map(copy_text.row_line, rows), rows=4)))
        await conn.copy_records_to_table("awkward_binary", columns=list(COLUMNS), records=rows)
        await bulk.copy_text(conn, "facts", bulk.FACT_COLUMNS,
                             source(copy_text.chunks(map(copy_text.fact_line, facts), rows=4)))
        await conn.copy_records_to_table("facts_binary", columns=list(bulk.FACT_COLUMNS),
                                         records=bulk.fact_rows(facts))
        columns = ", ".join(COLUMNS)
        as_text = await conn.fetch(f"SELECT {columns}, j::text AS j_text FROM awkward ORDER BY n")
        as_binary = await conn.fetch(f"SELECT {columns}, j::text AS j_text FROM awkward_binary ORDER BY n")
        facts_columns = ", ".join(bulk.FACT_COLUMNS)
        facts_text = await conn.fetch(f"SELECT {facts_columns} FROM facts ORDER BY ordinal")
        facts_binary = await conn.fetch(f"SELECT {facts_columns} FROM facts_binary ORDER BY ordinal")
    finally:
        await conn.close()

    assert comparable(as_text) == comparable(as_binary)
    assert comparable(facts_text) == comparable(facts_binary)
    for row, back in zip(rows, as_text, strict=True):
        assert tuple(stored(v) for v in row[:7]) == tuple(stored(v) for v in tuple(back.values())[:7]), row
        assert back["j"] == row[7] or json.loads(back["j"]) == json.loads(str(row[7])), row
    for fact, back in zip(bulk.fact_rows(facts), facts_text, strict=True):
        assert tuple(stored(v) for v in fact) == tuple(stored(v) for v in back.values()), fact
    assert {row[1] for row in rows} == set(TEXTS) and {str(row[5]) for row in rows} == {str(d) for d in DECIMALS}
    assert {row[6] for row in rows} == set(TIMES)
