"""Intake settings (env prefix `INTAKE_`; Kafka and database from the shared platform settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from runtime.settings import PlatformSettings


class WechatAccount(BaseModel):
    """One official account / mini program: the token, AppID and EncodingAESKey from its console."""

    token: str
    app_id: str
    encoding_aes_key: str | None = None


class IntakeSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8001
    schema_name: str = "intake"
    # Publishing systems and their credentials: name → secret. A caller sends `X-Api-Key: <secret>`
    # or signs the body: `X-Gridline-Source: <name>`, `X-Gridline-Signature: t=<unix>,v1=<hex hmac-sha256>`.
    # The defaults are for the local stack only; deployments must set INTAKE_SOURCES.
    sources: dict[str, str] = Field(
        default_factory=lambda: {
            "hotline-12345": "dev-hotline-key",
            "grid-app": "dev-grid-app-key",
            "wechat-mini": "dev-wechat-mini-key",
            "dept-gateway": "dev-dept-key",
            "open311": "dev-open311-key",
            "console": "dev-console-key",  # the command centre's console (services/console) acting for its users
        }
    )
    # which channel each source may publish to
    source_channels: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "hotline-12345": ["hotline"],
            "grid-app": ["grid"],
            "wechat-mini": ["wechat"],
            "dept-gateway": ["actions"],
            "open311": ["open311"],
            "console": ["actions"],
        }
    )
    worker_token_secret: str = "dev-worker-token-secret"  # signs grid workers' bearer tokens
    contact_key: str = Field(
        default="ZGV2LWNvbnRhY3Qta2V5LWZvci1sb2NhbC1vbmx5ISE=",
        description="Fernet key (urlsafe base64, 32 bytes): the callback contact vault's AES-256-GCM key is "
                    "derived from it, and the vault's older Fernet rows open with it",
    )
    wechat_accounts: dict[str, WechatAccount] = Field(
        default_factory=lambda: {
            "tongjiang": WechatAccount(
                token="gridlinetoken", app_id="wx0123456789abcdef",
                encoding_aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            )
        }
    )
    signature_window_seconds: int = 300  # replays outside this window are refused
    wechat_pairing_seconds: int = 300  # text + location within this window form one incident
    max_body_bytes: int = 1_048_576
    rate_per_second: float = 200.0  # per source
    rate_burst: int = 1000  # must hold a full batch (500 tickets cost 500 tokens)
    publish_timeout_seconds: float = 10.0
    # group commit: groups being made durable at once (each holds one pooled connection until its ack)
    groups_in_flight: int = Field(default=4, ge=1, le=16)
    # … and items per group: a batch call of 500 goes through two groups, so one group's insert overlaps
    # the other's acknowledgement instead of one call waiting on each step in turn
    group_max_items: int = Field(default=250, ge=1, le=1000)
    # Open311 services.json is the responsibility list (read as data; intake never imports the router)
    open311_services_dir: Path = Path(__file__).resolve().parents[2] / "services/router/data/responsibility_list"
    # GET requests.json: the status of each request from intake's read model of case.events.v1/sla.events.v1
    open311_status_enabled: bool = True
    open311_status_group: str = "gridline-intake-open311"
    # agency_responsible: names from the city directory (simcity export, the router's ROUTER_CITY_DIR)
    open311_city_dir: Path = Path(__file__).resolve().parents[2] / ".local" / "city"
    open311_case_url: str = "http://127.0.0.1:8002/v1/cases/{case_id}"  # router's read-only case API
