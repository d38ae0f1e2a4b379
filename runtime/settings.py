"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """`KAFKA_BOOTSTRAP`, `DATABASE_URL`, `LOG_LEVEL` are read without a prefix (shared by all services)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = "postgresql://postgres@127.0.0.1:55432/gridline_run"
    log_level: str = "INFO"
    otel_console: bool = False  # print spans to stdout (no collector needed locally)
