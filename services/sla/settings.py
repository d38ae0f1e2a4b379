"""SLA settings (env prefix `SLA_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from runtime.settings import PlatformSettings
from schemas.common import Level
from services.sla.domain.deadlines import DEFAULT_RUNG_LIMITS
from services.sla.domain.durations import parse_duration

HERE = Path(__file__).resolve().parent


def _shares_ok(shares: tuple[float, ...]) -> tuple[float, ...]:
    if not shares or any(not 0 < x < 1 for x in shares) or list(shares) != sorted(set(shares)):
        raise ValueError("warn_shares must be ascending distinct fractions between 0 and 1, e.g. [0.5, 0.8]")
    return shares


class SlaSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8003
    schema_name: str = "sla"
    group_id: str = "gridline-sla"
    calendar_dir: Path = HERE / "data" / "calendar"
    warn_shares: tuple[float, ...] = (0.5, 0.8)  # 预警 as each share of a stage's time is used (JSON list)
    rung_limits: dict[Level, str] = Field(default_factory=lambda: dict(DEFAULT_RUNG_LIMITS))  # handle limit per rung
    verify_within: str = "1d"  # 核查: the grid checks resolved work within this
    district_code: str = "TJ"  # numbers the documents (两函一单) per district and year
    district_name: str = "通江区"
    templates_dir: Path = HERE / "templates"  # document.html (printable) and document.txt (on the event)
    timer_enabled: bool = True  # tests turn it off and call fire_due with their own clock
    timer_interval_seconds: float = 0.25  # how often the timer looks: firing lateness is at most about this
    timer_batch: int = 200

    @field_validator("warn_shares")
    @classmethod
    def _shares(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return _shares_ok(value)

    @field_validator("rung_limits", "verify_within")
    @classmethod
    def _limits(cls, value: object) -> object:
        for text in value.values() if isinstance(value, dict) else [value]:
            parse_duration(str(text))  # ValueError names the bad limit
        return value
