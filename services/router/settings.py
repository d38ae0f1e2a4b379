"""Router settings (env prefix `ROUTER_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from runtime.settings import PlatformSettings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


class RouterSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="ROUTER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8002
    schema_name: str = "router"
    group_id: str = "gridline-router"
    responsibility_list_dir: Path = HERE / "data" / "responsibility_list"
    city_dir: Path = ROOT / ".local" / "city"  # grids.geojson + gazetteer.json (python -m simcity write)
    confidence_threshold: float | None = None  # None: the threshold chosen by `make train` (in the artefact)
    model_path: Path = HERE / "data" / "model" / "classifier.json"  # trained classifier (make train)
    knowledge_dir: Path = HERE / "data" / "knowledge"  # consultation answers (直接答复)
    duplicate_radius_m: float = 150.0
    duplicate_window_hours: float = 72.0
    reload_interval_seconds: float = 5.0  # how often the list directory is checked for a new version
    decision_worker: bool = False  # decide the next poll in a second process (services/router/decider): off
    # by default — on a 2-core box shared with PostgreSQL and Kafka it costs more than it gives (docs/benchmarks.md,
    # router seventh pass); for a router with a core of its own
    decision_timeout_seconds: float = 10.0  # a batch's wait for the worker's answers; past it: decided here
    decision_worker_wait_seconds: float = 0.0  # how long a starting router waits for its worker before it
    # consumes (0: not at all, it decides in its own loop until the worker is ready; the benchmark waits)
