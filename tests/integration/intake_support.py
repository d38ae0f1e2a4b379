"""Building an intake app for tests, and requests that look like the real systems' ones."""

from __future__ import annotations

from typing import Any

from deploy.local.stack import Stack
from services.intake.settings import IntakeSettings

HOTLINE_KEY = {"X-Api-Key": "dev-hotline-key"}
DEPT_KEY = {"X-Api-Key": "dev-dept-key"}
MINI_KEY = {"X-Api-Key": "dev-wechat-mini-key"}
NOT_URGENT = "楼下垃圾堆了好几天没人清理，乱堆乱放，臭气熏天"  # dispatched (urgent texts go to a person first)


def intake_settings(stack: Stack, **overrides: Any) -> IntakeSettings:
    return IntakeSettings(**{"kafka_bootstrap": stack.bootstrap, "database_url": stack.database_url, **overrides})


def ticket(no: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ticket_no": no,
        "call_time": "2026-11-23T09:15:00+08:00",
        "caller_name": "王建国",
        "caller_phone": "13812345678",
        "appeal_type": "投诉",
        "urgency": "normal",
        "text": "人民东路128号门口井盖破损，晚上很危险，请尽快处理。联系电话13812345678",
        "address": "通江区人民东路128号",
        "operator_id": "OP-0231",
    }
    body.update(overrides)
    return body
