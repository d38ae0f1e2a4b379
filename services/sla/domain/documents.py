"""两函一单 as records: 督办单 supervision order, 信访风险警示函 risk warning letter, 信访问责建议函
accountability letter. Each is numbered per district, year and kind (通江督〔2026〕7号) and rendered from a
template to printable HTML and to the plain text carried on the `escalation_decided` event. Pure: the
serial comes from storage, the templates from files."""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from string import Template
from zoneinfo import ZoneInfo

from schemas.common import Level
from services.sla.domain.deadlines import Deadline
from services.sla.domain.escalation import Document

LOCAL = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Kind:
    title: str  # printed title
    short: str  # in the number: 通江督〔2026〕7号
    code: str  # ASCII, in the document id: TJ-2026-DB-0007
    demand: str  # what the addressee must do


KINDS: dict[Document, Kind] = {
    Document.SUPERVISION_ORDER: Kind("督办单", "督", "DB", "请立即组织办理，于督办时限内办结并书面反馈办理结果。"),
    Document.RISK_WARNING_LETTER: Kind("信访风险警示函", "警示", "JS",
                                       "该事项已超出办理时限，存在信访风险。请高度重视，尽快办结并反馈。"),
    Document.ACCOUNTABILITY_LETTER: Kind("信访问责建议函", "问责", "WZ",
                                         "该事项经警示后仍未按时办理，建议对相关责任单位和责任人依规问责。"),
}
LEVEL_NAMES = {Level.GRID: "网格", Level.COMMUNITY: "社区", Level.STREET: "街道", Level.DISTRICT: "区级",
               Level.SUPERVISION: "督办"}
STAGE_NAMES = {"accept": "签收", "handle": "办结", "verify": "核查"}


@dataclass(frozen=True)
class Templates:
    html: str
    text: str


@dataclass(frozen=True)
class IssuedDocument:
    doc_id: str  # TJ-2026-DB-0007: in URLs
    doc_no: str  # 通江督〔2026〕7号: printed
    kind: Document
    district: str
    year: int
    serial: int
    case_id: str
    decision: str  # the escalation_decided event id
    addressee: str
    issued_at: datetime
    text: str
    html: str


def year_of(at: datetime) -> int:
    return at.astimezone(LOCAL).year


def issue(kind: Document, serial: int, *, district_code: str, district_name: str, d: Deadline, decision: str,
          to_level: Level, at: datetime, templates: Templates) -> IssuedDocument:
    """The document for one escalation decision about stage `d`, with its serial for (district, year, kind)."""
    k, year = KINDS[kind], year_of(at)
    addressee = d.owner_unit or d.owner or "—"
    if d.owner and d.owner_unit and d.owner_unit != d.owner:
        addressee = f"{d.owner} {d.owner_unit}"
    late = (at - d.due_at) if d.due_at else timedelta(0)
    fields = {
        "title": k.title, "doc_no": f"{district_name.removesuffix('区')}{k.short}〔{year}〕{serial}号",
        "issuer": f"{district_name}网格化服务管理中心", "addressee": addressee, "case_id": d.case_id,
        "stage": STAGE_NAMES.get(d.stage.value, d.stage.value), "limit": d.limit,
        "due": _local(d.due_at), "overdue_by": _span(late), "level": LEVEL_NAMES.get(d.level, "—") if d.level
        else "—", "to_level": LEVEL_NAMES[to_level], "demand": k.demand, "issued_at": _local(at),
        "date": at.astimezone(LOCAL).strftime("%Y年%m月%d日"),
    }
    return IssuedDocument(
        doc_id=f"{district_code}-{year}-{k.code}-{serial:04d}", doc_no=fields["doc_no"], kind=kind,
        district=district_code, year=year, serial=serial, case_id=d.case_id, decision=decision, addressee=addressee,
        issued_at=at, text=_compiled(templates.text).format_map(fields),
        html=_compiled(templates.html).format_map({key: _escaped(value) for key, value in fields.items()}),
    )


@functools.lru_cache(maxsize=8)
def _compiled(template: str) -> str:
    """A `string.Template` (`$name`, `${name}`, `$$`) as the `str.format` string that renders the same text:
    the timer renders two per escalation, and `Template.substitute` calls back into Python per placeholder."""
    parts, at = [], 0
    for m in Template.pattern.finditer(template):
        parts.append(template[at:m.start()].replace("{", "{{").replace("}", "}}"))
        name = m.group("named") or m.group("braced")
        if name:
            parts.append(f"{{{name}}}")
        elif m.group("escaped") is not None:
            parts.append("$")
        else:
            raise ValueError(f"invalid placeholder in the document template at offset {m.start()}")
        at = m.end()
    parts.append(template[at:].replace("{", "{{").replace("}", "}}"))
    return "".join(parts)


_SPECIAL = re.compile("[&<>\"']")


def _escaped(value: str) -> str:
    """`html.escape`, skipped for the (usual) value with nothing to escape."""
    return html.escape(value) if _SPECIAL.search(value) else value


def _local(at: datetime | None) -> str:
    return at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if at else "—"


def _span(span: timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    return (f"{days}天" if days else "") + f"{rest // 60}小时{rest % 60}分钟"
