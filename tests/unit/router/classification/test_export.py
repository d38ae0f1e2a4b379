"""Learning from the centre: corrections become labelled examples, personal data scrubbed."""

from __future__ import annotations

from services.router.classification.export import CentreDecision, export, scrub


def test_phone_numbers_id_numbers_and_names_are_scrubbed() -> None:
    text = scrub("我姓王，电话13812345678，身份证110101199003071234，张*说138****5678也行")
    assert "13812345678" not in text and "1101011990" not in text and "5678" not in text
    assert "王" not in text and "张*" not in text


def test_each_case_exports_once_and_corrections_are_counted_by_the_routers_item() -> None:
    decisions = [
        CentreDecision("C-1", "井盖丢了", "hotline", "manual", "A04.001", "URBAN_MGMT", "B03.001"),
        CentreDecision("C-1", "井盖丢了", "hotline", "manual", "A04.002", "URBAN_MGMT", "B03.001"),
        CentreDecision("C-2", "噪音扰民", "wechat", "arbitration", "C02.001", "POLICE", "C02.001"),
        CentreDecision("C-3", "无名", "grid", "redispatch", None, None, None),
    ]
    result = export(decisions)
    assert [line["item_code"] for line in result.lines] == ["A04.001", "C02.001"]
    assert result.corrected == {"B03.001": 1}
    assert result.by_kind == {"manual": 1, "arbitration": 1}
    assert result.lines[0]["source"] == "centre:manual"
