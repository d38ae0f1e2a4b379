"""两函一单: numbered per district, year and kind; printable HTML and plain text from the templates."""

from __future__ import annotations

from datetime import timedelta
from string import Template

import pytest

from schemas.common import Level
from schemas.sla import SlaStage
from services.sla.bootstrap import load_templates
from services.sla.domain.deadlines import Deadline
from services.sla.domain.documents import _compiled, issue
from services.sla.domain.escalation import Document
from services.sla.settings import HERE
from tests.unit.sla.conftest import local

TEMPLATES = load_templates(HERE / "templates")
DUE = local("2026-03-10 14:30")


def breached(owner: str = "COMMUNITY", unit: str | None = "CM-1") -> Deadline:
    return Deadline(case_id="C-HL-7", gen=2, stage=SlaStage.HANDLE, limit="1d", working=False,
                    started_at=DUE - timedelta(days=1), allowed=timedelta(days=1), due_at=DUE, warn_at=None,
                    owner=owner, owner_unit=unit, level=Level.COMMUNITY)


def test_a_supervision_order_is_numbered_for_its_district_and_year() -> None:
    doc = issue(Document.SUPERVISION_ORDER, 7, district_code="TJ", district_name="通江区", d=breached(),
                decision="SLA-C-HL-7-2.1-escalation_decided", to_level=Level.SUPERVISION,
                at=DUE + timedelta(hours=3), templates=TEMPLATES)
    assert (doc.doc_id, doc.doc_no, doc.year) == ("TJ-2026-DB-0007", "通江督〔2026〕7号", 2026)
    assert doc.text.splitlines()[:2] == ["督办单", "通江督〔2026〕7号"]
    assert "C-HL-7" in doc.text and "超期 3小时0分钟" in doc.text and "社区提级至督办" in doc.text


def test_the_letters_have_their_own_titles_and_number_series() -> None:
    warning = issue(Document.RISK_WARNING_LETTER, 1, district_code="TJ", district_name="通江区", d=breached(),
                    decision="x", to_level=Level.STREET, at=DUE, templates=TEMPLATES)
    accountability = issue(Document.ACCOUNTABILITY_LETTER, 1, district_code="TJ", district_name="通江区",
                           d=breached(), decision="y", to_level=Level.DISTRICT, at=DUE, templates=TEMPLATES)
    assert (warning.doc_no, warning.text.splitlines()[0]) == ("通江警示〔2026〕1号", "信访风险警示函")
    assert (accountability.doc_no, accountability.doc_id) == ("通江问责〔2026〕1号", "TJ-2026-WZ-0001")


def test_the_number_follows_the_year_of_issue_in_local_time() -> None:
    doc = issue(Document.SUPERVISION_ORDER, 1, district_code="TJ", district_name="通江区", d=breached(),
                decision="z", to_level=Level.SUPERVISION, at=local("2027-01-01 00:30"), templates=TEMPLATES)
    assert doc.year == 2027 and doc.doc_no == "通江督〔2027〕1号"


def test_the_printable_html_escapes_what_it_prints_and_has_print_styles() -> None:
    doc = issue(Document.SUPERVISION_ORDER, 2, district_code="TJ", district_name="通江区",
                d=breached(owner="<script>", unit=None), decision="w", to_level=Level.SUPERVISION, at=DUE,
                templates=TEMPLATES)
    assert "<script>" not in doc.html and "&lt;script&gt;" in doc.html
    assert "@page" in doc.html and "@media print" in doc.html and "通江督〔2026〕2号" in doc.html


def test_documents_render_what_string_template_renders_from_the_same_template() -> None:
    tricky = "{css: 1} $$5 ${title}：$addressee，}{ $$${doc_no}\n"
    fields = {"title": "督办单", "addressee": "A {0} $x", "doc_no": "通江督〔2026〕7号"}
    assert _compiled(tricky).format_map(fields) == Template(tricky).substitute(fields)
    for shipped in (TEMPLATES.html, TEMPLATES.text):
        names = {m.group("named") or m.group("braced") for m in Template.pattern.finditer(shipped)} - {None}
        values = {name: f"{name} {{0}} $${name}" for name in names}
        assert _compiled(shipped).format_map(values) == Template(shipped).substitute(values)


def test_a_template_with_an_invalid_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid placeholder"):
        _compiled("cost: $ 5")
