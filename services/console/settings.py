"""Console settings (env prefix `CONSOLE_`; Kafka and database from the shared platform settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from runtime.settings import PlatformSettings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


class ConsoleSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8005
    schema_name: str = "console"
    group_id: str = "gridline-console"
    # The services the console talks to, only through their HTTP APIs (the defaults are `make run`'s ports).
    intake_url: str = "http://127.0.0.1:8001"
    router_url: str = "http://127.0.0.1:8002"
    sla_url: str = "http://127.0.0.1:8003"
    scoring_url: str = "http://127.0.0.1:8004"
    # Intake credential of the console as a publishing system (source `console`, channel `actions`).
    intake_api_key: str = "dev-console-key"
    city_dir: Path = ROOT / ".local" / "city"  # grids.geojson + gazetteer.json + directory.json (simcity)
    users_file: Path = HERE / "data" / "users.yaml"  # operators: configuration data, hashed passwords
    session_hours: float = 12.0
    cookie_secure: bool = False  # set true behind HTTPS
    hotspot_radius_m: float = 200.0
    hotspot_window_days: int = 30
    hotspot_min_cases: int = Field(default=3, ge=2)
    upstream_timeout_seconds: float = 10.0
