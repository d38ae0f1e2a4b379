"""Value types shared by every Gridline event."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Contract(BaseModel):
    """Base of every event payload: immutable, unknown fields refused on produce."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Channel(StrEnum):
    """Where an incident came in (渠道)."""

    HOTLINE = "hotline"  # 12345 政务服务便民热线
    GRID = "grid"  # 全要素网格通 grid workers' app
    WECHAT = "wechat"  # 公众号 official account / 小程序 mini program
    OPEN311 = "open311"  # GeoReport v2 clients


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"


class Level(StrEnum):
    """Handling level, lowest first (网格 → 社区 → 街道 → 区)."""

    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"
    SUPERVISION = "supervision"  # 督办单 supervision order above the district


class GeoPoint(Contract):
    """WGS-84 point."""

    lon: float = Field(ge=-180, le=180, examples=[120.91])
    lat: float = Field(ge=-90, le=90, examples=[32.02])
