"""Masking of personal data before it reaches an event or a log line."""

from __future__ import annotations

import pytest

from services.intake.domain.open311 import mask_email
from services.intake.domain.privacy import mask_name, mask_openid, mask_phone, scrub_text


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812345678", "138****5678"), ("138-1234-5678", "138****5678"), ("+86 138 1234 5678", "861****5678"),
    ("0513-83551234", "051****1234"), ("12345", "****"), ("", None), (None, None),
])
def test_phones_keep_only_the_prefix_and_the_last_four_digits(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


def test_names_keep_the_family_name() -> None:
    assert (mask_name("王建国"), mask_name("欧阳娜娜"), mask_name("李"), mask_name("  "), mask_name(None)) == (
        "王**", "欧***", "李*", None, None)


def test_openids_keep_four_characters_at_each_end() -> None:
    assert mask_openid("oXyZ1234567890abcd") == "oXyZ***abcd"
    assert mask_openid("short") == "***"


def test_phone_numbers_typed_into_free_text_are_masked() -> None:
    text = scrub_text("井盖坏了，电话13812345678，座机0513-83551234，门牌128号，订单号2026112300001234")
    assert "13812345678" not in text and "138****5678" in text
    assert "83551234" not in text and "0513-****1234" in text
    assert "128号" in text


def test_emails_keep_the_first_letter_and_the_domain() -> None:
    assert mask_email("zhang.san@example.cn") == "z***@example.cn"
    assert mask_email("not-an-email") is None and mask_email(None) is None


@pytest.mark.parametrize(("typed", "masked"), [
    ("身份证号320602198703151234，", "320602********1234"),
    ("证件 11010519491231002X 丢了", "110105********002X"),
    ("号码32060219870315123x", "320602********123x"),
])
def test_id_card_numbers_keep_only_the_region_and_the_last_four(typed: str, masked: str) -> None:
    text = scrub_text(typed)
    assert masked in text
    assert "19870315" not in text and "19491231" not in text


@pytest.mark.parametrize(("typed", "masked"), [
    ("卡号6222020200112233446退款", "6222***********3446"),  # 19 digits (Luhn-valid)
    ("转账到 6225 8801 2345 6783 了", "6225********6783"),  # groups of four
    ("4111-1111-1111-1111", "4111********1111"),
])
def test_bank_card_numbers_keep_only_the_first_and_last_four(typed: str, masked: str) -> None:
    assert masked in scrub_text(typed)


def test_long_numbers_that_are_neither_cards_nor_ids_stay() -> None:
    text = "订单号2026112300001235，工单 2026-1123-0000-1239"  # 16 digits, not Luhn-valid
    assert scrub_text(text) == text
