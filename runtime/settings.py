"""Settings every service shares; each service subclasses with its own env prefix.

The shared fields are read from unprefixed variables (`KAFKA_BOOTSTRAP`, `DATABASE_URL`, `LOG_LEVEL`,
`OTEL_CONSOLE`, `KAFKA_GROUP_INSTANCE_ID`) whatever the service's prefix, so one environment configures the
whole platform."""

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
    # Static group membership (KIP-345): the name of this process among its group's members, kept across its
    # restarts (a pod's name, `router-0`). A process killed and started again with the same name takes its
    # partitions back at once instead of after the dead one's session timeout (10 s). Each running process
    # of a group needs its own; a name given twice fences the older process. Unset: dynamic membership.
    # Group ids differ per service, so one name can serve every service of one host or pod.
    kafka_group_instance_id: str | None = Field(default=None, validation_alias=_shared("kafka_group_instance_id"))
