"""Learning from the centre (pure): every manual dispatch, re-dispatch after a return (退单) and
arbitration (仲裁) is a labelled example; personal data is scrubbed before a text leaves the router."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_PHONE = re.compile(r"(?<!\d)1[3-9]\d[\d*]{4}\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?[\d*]{7,8}(?!\d)")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])\d{6}(?:19|20)\d{2}[\d*]{7}[\dXx](?![\dA-Za-z])")
_LONG_NUMBER = re.compile(r"(?<!\d)\d{7,}(?!\d)")
_NAME = re.compile(r"(?<=[姓叫])[\u4e00-\u9fff*]{1,3}(?=[先女同师老，,。\s])")
_MASKED_NAME = re.compile(r"[\u4e00-\u9fff]\*{1,2}")


def scrub(text: str) -> str:
    """Phone numbers, ID card numbers, long numbers and names (masked or after 姓/叫) become placeholders."""
    text = _ID_CARD.sub("[身份证号]", text)
    text = _PHONE.sub("[电话]", text)
    text = _LANDLINE.sub("[电话]", text)
    text = _LONG_NUMBER.sub("[号码]", text)
    text = _MASKED_NAME.sub("[姓名]", text)
    return _NAME.sub("[姓名]", text)


@dataclass(frozen=True)
class CentreDecision:
    """A case the centre (or a return) routed, as stored: its text and the router's first guess."""

    case_id: str
    text: str
    channel: str
    kind: str  # manual | redispatch | arbitration
    item_code: str | None  # the item the case ended up with
    owner: str | None
    router_item: str | None  # the router's top candidate when the case came in


@dataclass(frozen=True)
class Export:
    lines: list[dict[str, object]]
    corrected: Counter[str]  # router's item → how often the centre moved a case away from it
    by_kind: Counter[str]


def export(decisions: Iterable[CentreDecision]) -> Export:
    lines: list[dict[str, object]] = []
    corrected: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    seen: set[str] = set()
    for d in decisions:
        if d.item_code is None or d.case_id in seen:
            continue
        seen.add(d.case_id)  # the case's last routing counts once
        kinds[d.kind] += 1
        if d.router_item and d.router_item != d.item_code:
            corrected[d.router_item] += 1
        lines.append({"text": scrub(d.text), "channel": d.channel, "item_code": d.item_code,
                      "owner": d.owner, "source": f"centre:{d.kind}"})
    return Export(lines, corrected, kinds)
