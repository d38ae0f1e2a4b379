"""Settings every service shares; each service subclasses with its own env prefix.

The shared fields are read from unprefixed variables (`KAFKA_BOOTSTRAP`, `DATABASE_URL`, `LOG_LEVEL`,
`OTEL_CONSOLE`) whatever the service's prefix, so one environment configures the whole platform."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _shared(name: str) -> AliasChoices:
    return AliasChoices(name, name.upper())


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", validation_alias=_shared("kafka_bootstrap"))
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:15432/gridline_run", validation_alias=_shared("database_url")
    )
    log_level: str = Field(default="INFO", validation_alias=_shared("log_level"))
    otel_console: bool = Field(default=False, validation_alias=_shared("otel_console"))  # print spans to stdout
