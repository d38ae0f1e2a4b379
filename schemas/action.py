"""A department's (or the centre's, or a citizen's) action on a case, on `intake.actions.v1`.

Intake only validates the shape; the router judges whether the action is allowed now.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AnyUrl, Field

from schemas.common import Contract


class ActionKind(StrEnum):
    ACCEPT = "accept"  # 签收
    RETURN = "return"  # 退单, with a reason
    PROGRESS = "progress"  # 进展说明
    RESOLVE = "resolve"  # 办结, with evidence
    VERIFY = "verify"  # 核查 pass/fail by the grid
    RATE = "rate"  # 回访 citizen satisfaction 1..5
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    APPROVE_EXTENSION = "approve_extension"
    SUSPEND = "suspend"  # 挂起 (clock paused)
    RESUME = "resume"
    ARBITRATE = "arbitrate"  # 仲裁 by the centre: names the department that must take it
    DISPATCH = "dispatch"  # 人工分拨 by the centre: routes a case from the manual queue
    REJECT = "reject"  # not a valid incident (centre only)


class ActionTaken(Contract):
    """`gov.gridline.action.taken.v1`."""

    action_id: str = Field(description="the caller's idempotency key for this action")
    case_id: str
    kind: ActionKind
    actor: str = Field(description="department code, worker id or 'CENTER:<operator>'", examples=["URBAN_MGMT"])
    reason: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)
    evidence_urls: tuple[AnyUrl, ...] = ()
    passed: bool | None = Field(default=None, description="verify: on-site check passed")
    satisfaction: int | None = Field(default=None, ge=1, le=5, description="rate: 1 (very bad) .. 5")
    extension_hours: int | None = Field(default=None, ge=1, le=24 * 90)
    target: str | None = Field(default=None, description="arbitrate/dispatch: department or item code")
    taken_at: datetime
