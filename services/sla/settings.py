"""SLA settings (env prefix `SLA_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from runtime.settings import PlatformSettings

HERE = Path(__file__).resolve().parent


class SlaSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8003
    schema_name: str = "sla"
    group_id: str = "gridline-sla"
    calendar_dir: Path = HERE / "data" / "calendar"
    warn_share: float = Field(default=0.8, gt=0, lt=1)  # 预警 when this share of a stage's time is used
    timer_enabled: bool = True  # tests turn it off and call fire_due with their own clock
    timer_interval_seconds: float = 1.0
    timer_batch: int = 200
