"""Masking of personal data (手机号、身份证号、银行卡号、openid、姓名) before it enters an event or a log line."""

from __future__ import annotations

import re

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-?(\d{3,4})(\d{4})(?!\d)")
# 18-digit 居民身份证号: region (6), birth date yyyymmdd, sequence (3), check digit (0-9 or X)
_ID_CARD = re.compile(
    r"(?<![\dA-Za-z])([1-9]\d{5})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3})([\dXx])"
    r"(?![\dA-Za-z])"
)
# bank cards: 16-19 digits, written whole or in groups of four (spaces or dashes), Luhn-valid
_CARD = re.compile(r"(?<![\d-])(\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?)(?![\d-])")
_FOUR_DIGITS = re.compile(r"\d{4}")  # every pattern above needs four digits in a row


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


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _mask_card(m: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", m.group(1))
    if not 16 <= len(digits) <= 19 or not _luhn(digits):
        return m.group(0)
    return f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"


def scrub_text(text: str) -> str:
    """ID numbers, bank cards and phone numbers a citizen types into free text are masked too (events
    are read by many): 身份证 320602********1234, card 6222*********1234, phone 138****5678. A text
    without four digits in a row (most of them) is scanned once instead of four times."""
    if _FOUR_DIGITS.search(text) is None:
        return text
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(3)}{m.group(4)}", text)
    text = _CARD.sub(_mask_card, text)
    text = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)


def scrub_optional(text: str | None) -> str | None:
    return scrub_text(text) if text else text
