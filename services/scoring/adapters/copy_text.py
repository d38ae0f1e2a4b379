"""Rows in PostgreSQL's COPY text format, encoded where they are made (a rebuild's fold workers): the
process that holds the transaction only forwards the bytes (`COPY … FROM STDIN`, asyncpg's
`copy_to_table(source=…)`), instead of encoding 20 M rows itself. The values are those asyncpg's binary
encoding gives (tests/integration/test_scoring_copy_text.py COPYs awkward values in both ways and reads
them back through PostgreSQL): text escaped, NULL as \\N, booleans t/f, exact decimals as written,
times in ISO 8601 with their offset (a naive time is UTC, as asyncpg takes it; the instants of
`datetime.max` and `datetime.min` are ±infinity, as asyncpg writes them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

from services.scoring.domain.tallying import Recorded

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
CHUNK_ROWS = 5_000  # rows per chunk handed over (≈ 1 MB of facts)
# asyncpg writes the instants of datetime.max and datetime.min (naive, or in UTC) as ±infinity
_INFINITE = ((datetime.max.replace(tzinfo=UTC), "infinity"), (datetime.min.replace(tzinfo=UTC), "-infinity"))
_EDGE_YEARS = (datetime.min.year, datetime.max.year)  # where those instants can lie in any zone


def text(value: str | None) -> str:
    """A text column: as it is unless it holds a backslash or a control character (then escaped)."""
    if value is None:
        return NULL
    if value.isprintable() and "\\" not in value:
        return value
    return value.translate(_ESCAPES)


def timestamp(value: datetime | None) -> str:
    if value is None:
        return NULL
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if value.year in _EDGE_YEARS:  # compared, not hashed: hashing an aware time near them can overflow
        for instant, infinite in _INFINITE:
            if aware == instant:
                return infinite  # what asyncpg's binary encoding makes of it
    return aware.isoformat()


def field(value: object) -> str:
    """Any other column's value (int, bool, Decimal, datetime, text)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, int | Decimal):
        return str(value)
    return text(str(value))


def fact_line(r: Recorded) -> str:
    """One row of `facts` in bulk.FACT_COLUMNS' order (the hot path of a rebuild: no per-column dispatch)."""
    f = r.fact
    return (f"{text(r.event_id)}\t{r.ordinal}\t{text(f.case_id)}\t{text(f.period)}\t{f.name.value}\t{text(f.tag)}\t"
            f"{f.value}\t{text(f.department)}\t{text(f.worker)}\t{timestamp(f.at)}\t{text(r.traceparent)}\n")


def row_line(row: Iterable[object]) -> str:
    return "\t".join(field(v) for v in row) + "\n"


def chunks(lines: Iterable[str], rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """Lines joined into chunks of whole rows, UTF-8 (the COPY's client encoding)."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= rows:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()
