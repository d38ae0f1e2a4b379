"""Fault injection is off unless asked for, refuses stages it does not know, and spares single records."""

from __future__ import annotations

import pytest

from runtime import chaos


def test_unset_never_kills() -> None:
    chaos.from_env({})("in_transaction", 500)  # still alive


def test_an_unknown_stage_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="unknown stages"):
        chaos.from_env({"GRIDLINE_CHAOS_KILL": "in_transaction,after_lunch"})


def test_a_batch_of_one_record_is_never_the_crash_point(monkeypatch: pytest.MonkeyPatch) -> None:
    killed: list[int] = []
    monkeypatch.setattr(chaos.os, "kill", lambda pid, sig: killed.append(sig))
    maybe_kill = chaos.from_env({"GRIDLINE_CHAOS_KILL": "after_db_commit", "GRIDLINE_CHAOS_KILL_P": "1"})
    maybe_kill("after_db_commit", 1)
    maybe_kill("in_transaction", 2)
    assert killed == []
    maybe_kill("after_db_commit", 2)
    assert len(killed) == 1
