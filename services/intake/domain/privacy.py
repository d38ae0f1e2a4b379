"""Masking of personal data (手机号、openid、姓名) before it enters an event or a log line."""

from __future__ import annotations

import re

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{3,4})(\d{4})(?!\d)")


def mask_phone(phone: str | None) -> str | None:
    """138****5678 for mobiles; keeps the area code and last four digits of landlines."""
    if not phone:
        return None
    digits = re.sub(r"[^\d]", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[7:]}"
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "****"


def mask_name(name: str | None) -> str | None:
    """张* / 欧阳** : the family name stays, the given name is hidden."""
    if not name:
        return None
    name = name.strip()
    return name[0] + "*" * max(1, len(name) - 1) if name else None


def mask_openid(openid: str) -> str:
    return f"{openid[:4]}***{openid[-4:]}" if len(openid) > 8 else "***"


def scrub_text(text: str) -> str:
    """Phone numbers a citizen types into free text are masked too (events are read by many)."""
    text = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)
