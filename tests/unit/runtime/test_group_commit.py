"""Group commit: concurrent callers share a group, each gets its own result, a failed group fails all of
its callers, and an item sent back (`AGAIN`) goes through a later group."""

from __future__ import annotations

import asyncio

from runtime.groupcommit import AGAIN, Again, GroupCommit


async def test_callers_arriving_while_a_group_commits_share_the_next_one() -> None:
    release = asyncio.Event()
    groups: list[list[int]] = []

    async def commit(items: list[int]) -> list[int | Again]:
        groups.append(items)
        if len(groups) == 1:
            await release.wait()  # the first group is slow: everyone else queues meanwhile
        return [i * 10 for i in items]

    gc: GroupCommit[int, int] = GroupCommit(commit, in_flight=1)
    first = asyncio.create_task(gc.submit(0))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(gc.submit(i)) for i in range(1, 6)]
    await asyncio.sleep(0)
    release.set()
    assert await first == 0 and await asyncio.gather(*rest) == [10, 20, 30, 40, 50]
    assert groups == [[0], [1, 2, 3, 4, 5]]


async def test_a_failed_group_fails_every_caller_in_it_and_only_them() -> None:
    async def commit(items: list[int]) -> list[int | Again]:
        if 13 in items:
            raise ConnectionResetError("broker went away")
        return list(items)

    gc: GroupCommit[int, int] = GroupCommit(commit, in_flight=1)
    together = await asyncio.gather(gc.submit(12), gc.submit(13), return_exceptions=True)
    assert all(isinstance(r, ConnectionResetError) for r in together)
    assert await gc.submit(14) == 14


async def test_an_item_sent_back_is_committed_again_in_a_later_group() -> None:
    seen: list[list[str]] = []

    async def commit(items: list[str]) -> list[str | Again]:
        seen.append(items)
        return [AGAIN if i == "copy" and len(seen) == 1 else i.upper() for i in items]

    gc: GroupCommit[str, str] = GroupCommit(commit, in_flight=1)
    assert await asyncio.gather(gc.submit("copy"), gc.submit("x")) == ["COPY", "X"]
    assert seen == [["copy", "x"], ["copy"]]


async def test_the_group_size_is_capped() -> None:
    sizes: list[int] = []

    async def commit(items: list[int]) -> list[int | Again]:
        sizes.append(len(items))
        await asyncio.sleep(0)
        return list(items)

    gc: GroupCommit[int, int] = GroupCommit(commit, max_group=4, in_flight=1)
    assert await asyncio.gather(*(gc.submit(i) for i in range(10))) == list(range(10))
    assert max(sizes) <= 4 and sum(sizes) == 10



async def test_submit_many_queues_a_callers_items_together_and_answers_each_in_order() -> None:
    groups: list[list[int]] = []

    async def commit(items: list[int]) -> list[int | Again]:
        groups.append(items)
        return [-i for i in items]

    gc: GroupCommit[int, int] = GroupCommit(commit, in_flight=1)
    assert await gc.submit_many([3, 1, 2]) == [-3, -1, -2]
    assert groups == [[3, 1, 2]]


async def test_submit_many_gives_a_failed_groups_items_its_exception_and_the_others_their_results() -> None:
    async def commit(items: list[int]) -> list[int | Again]:
        if 13 in items:
            raise ConnectionResetError("broker went away")
        return list(items)

    gc: GroupCommit[int, int] = GroupCommit(commit, max_group=2, in_flight=1)
    first, second, third = await gc.submit_many([12, 13, 14])
    assert isinstance(first, ConnectionResetError) and isinstance(second, ConnectionResetError)
    assert third == 14


async def test_submit_many_sends_an_item_marked_again_through_a_later_group() -> None:
    groups: list[list[str]] = []

    async def commit(items: list[str]) -> list[str | Again]:
        groups.append(items)
        seen: set[str] = set()
        out: list[str | Again] = []
        for item in items:
            out.append(AGAIN if item in seen else f"{item}:{len(groups)}")
            seen.add(item)
        return out

    gc: GroupCommit[str, str] = GroupCommit(commit, in_flight=1)
    assert await gc.submit_many(["a", "b", "a"]) == ["a:1", "b:1", "a:2"]
    assert groups == [["a", "b", "a"], ["a"]]
