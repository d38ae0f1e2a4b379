"""An empty database with a backlog, through the real broker and database: the service starts on an EMPTY
schema while its group has committed offsets (the database was lost and re-created). Continuing from the
group's place would fold only the tail and publish wrong cards over the right ones; the service rebuilds
from the log's start before it consumes, so every card it publishes counts the whole month, once."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from deploy.local.stack import Stack
from schemas.topics import SCORING
from services.scoring.app import create_app
from services.scoring.bootstrap import Scoring
from tests.integration.conftest import open_at_start, serve
from tests.integration.test_scoring import (
    NEW_RULER,
    cards_of,
    input_end_offsets,
    produce,
    records,
    settings,
    start_group_at,
)
from tests.integration.test_scoring_rebuild import scoring_end
from tests.integration.test_scoring_rebuild_workers import Hand
from tests.integration.test_scoring_replay import drop_schemas, settle
from tests.unit.scoring.builders import EXPECTED_ASSESSED, an_assessed_month, summary

pytestmark = pytest.mark.integration
PERIOD = "2033-06"


@pytest_asyncio.fixture(loop_scope="session")
async def schemas(stack: Stack, uid: str) -> AsyncIterator[tuple[str, str]]:
    names = (f"scoring_t{uid.lower()}_lost", f"scoring_t{uid.lower()}_recreated")
    yield names
    await drop_schemas(stack, names)


def unranked(card: tuple[Any, ...]) -> tuple[Any, ...]:
    return card[:1] + card[2:]


async def published_between(bootstrap: str, lo: dict[int, int], hi: dict[int, int], uid: str) -> Counter[str]:
    """How many records each of the test's keys of the month got on scoring.v1 within the window."""
    consumer, tps = await open_at_start(bootstrap, SCORING)
    try:
        end = await consumer.end_offsets(tps)
        seen: Counter[str] = Counter()
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for r in batch:
                    key = (r.key or b"").decode()
                    if lo.get(r.partition, 0) <= r.offset < hi.get(r.partition, 0) and key.startswith(PERIOD) \
                            and uid in key:
                        seen[key] += 1
        return seen
    finally:
        await consumer.stop()


@pytest.mark.parametrize("killed", [False, True], ids=["one-process", "a-fold-worker-killed"])
async def test_an_empty_schema_behind_a_consumed_group_is_rebuilt_from_the_log_start(
    stack: Stack, uid: str, schemas: tuple[str, str], monkeypatch: pytest.MonkeyPatch, killed: bool,
) -> None:
    """Killed: the service rebuilds in 2 processes, one of which is killed as soon as it is started; the
    rebuild rolls back and folds again in one process, with the same cards, each published once."""
    month = an_assessed_month(uid, 2033, 6)
    half = len(month) // 2
    group = f"scoring-lost-{uid}"
    await start_group_at(stack.bootstrap, group, await input_end_offsets(stack.bootstrap))
    first = settings(stack, uid, group).model_copy(update={"schema_name": schemas[0]})
    async with serve(create_app(first)) as client:
        service: Scoring = client._transport.app.state.scoring  # type: ignore[attr-defined]
        await produce(stack.bootstrap, records(month[:half]))
        await settle(service, stack.bootstrap)  # the group is committed past the month's first half

    # the database is lost and re-created empty; the rest of the month arrives while the service is down
    await produce(stack.bootstrap, records(month[half:]))
    mark = await scoring_end(stack.bootstrap)
    recreated = first.model_copy(update={"schema_name": schemas[1], "from_committed": False,
                                         "rebuild_workers": 2 if killed else 1})
    hand = Hand(monkeypatch, "started", signal.SIGKILL) if killed else None
    async with serve(create_app(recreated)) as client:
        service = client._transport.app.state.scoring  # type: ignore[attr-defined]
        await settle(service, stack.bootstrap)
        cards = await cards_of(client, PERIOD, uid, NEW_RULER)
    # the whole month, not its tail (ranks and the shared hotline and centre aside: the rebuild reads the whole
    # log, the other runs' months of this period too)
    assert {k: unranked(summary(c)) for k, c in cards.items() if c.entity_id.endswith(uid)} == {
        k: unranked(v) for k, v in EXPECTED_ASSESSED.items() if not k.startswith(("hotline:", "center:"))}
    seen = await published_between(stack.bootstrap, mark, await scoring_end(stack.bootstrap), uid)
    assert seen and set(seen.values()) == {1}  # each card once, from the whole history: none from a part of it
    assert hand is None or hand.fired is not None
