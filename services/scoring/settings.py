"""Scoring settings (env prefix `SCORING_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from runtime.settings import PlatformSettings

HERE = Path(__file__).resolve().parent


class ScoringSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="SCORING_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8004
    schema_name: str = "scoring"
    group_id: str = "gridline-scoring"
    ruler_dir: Path = HERE / "data" / "ruler"  # every published <version>.yaml
    publish_interval_seconds: float = 15.0  # debounce: one change can move every rank of a type
    batch_records: int = 500  # records per poll batch (a batch costs a fixed handful of statements)
    # Catching up (a replay, a backlog): while the consumer is at least this many records behind the log
    # end, a (period, type) still being marked waits for a round without new marks (at most the wait),
    # so a month's cards are computed once its events are in rather than every round on the way.
    catch_up_records: int = 10_000
    catch_up_max_wait_seconds: float = 120.0
    # An EMPTY schema behind a group that has committed offsets past the log's start is a lost database: the
    # service rebuilds it from the log's start before it consumes (README, "An empty database with a
    # backlog"). True: trust the group's offsets instead — a group created to start at a later point (tests).
    from_committed: bool = False
    # The rebuild (`python -m services.scoring rebuild`) folds the log split by case in this many processes
    # (handlers/rebuild_workers.py); 1 folds in the command's own process. The same tables either way.
    # A worker that dies or hangs rolls the split back and the log is folded again in one process (README, "In
    # several processes"). Default 1: on a 2-core machine the fold and PostgreSQL's COPY already fill both
    # cores, and a year took 538 s in 2 processes against 471.5 s in one (docs/benchmarks.md, "Eighth pass").
    rebuild_workers: int = 1
    # A fold worker that sends the command nothing for this long while the command waits on it (it reports
    # after every read batch and every step of settling, each seconds long on a year) is taken for hung:
    # the rebuild rolls back and folds again in one process, as when a worker dies.
    rebuild_worker_silence_seconds: float = 300.0
