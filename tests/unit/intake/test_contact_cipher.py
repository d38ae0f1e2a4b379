"""The callback vault's cipher: AES-256-GCM bound to the contact's ref, and every Fernet token the vault
wrote before still opens (services/intake/domain/contact_cipher.py)."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet

from services.intake.domain.contact_cipher import AES_GCM_V1, ContactCipher, UnreadableContact

KEY = Fernet.generate_key().decode()


def test_a_sealed_contact_opens_with_its_ref_and_hides_the_number() -> None:
    cipher = ContactCipher(KEY)
    sealed = cipher.seal("ct_abc", "13812345678")
    assert sealed[:1] == AES_GCM_V1 and b"13812345678" not in sealed
    assert cipher.open("ct_abc", sealed) == "13812345678"
    assert ContactCipher(KEY).open("ct_abc", sealed) == "13812345678"  # the key, not the object, opens it


def test_the_same_contact_seals_differently_each_time() -> None:
    cipher = ContactCipher(KEY)
    assert cipher.seal("ct_abc", "13812345678") != cipher.seal("ct_abc", "13812345678")


def test_a_contact_opened_under_another_ref_or_altered_does_not_open() -> None:
    cipher = ContactCipher(KEY)
    sealed = cipher.seal("ct_abc", "13812345678")
    with pytest.raises(InvalidTag):
        cipher.open("ct_other", sealed)  # a row's ciphertext copied under another ref
    with pytest.raises(InvalidTag):
        cipher.open("ct_abc", sealed[:-1] + bytes([sealed[-1] ^ 1]))
    with pytest.raises(InvalidTag):
        ContactCipher(Fernet.generate_key().decode()).open("ct_abc", sealed)


def test_fernet_tokens_written_before_still_open() -> None:
    old = Fernet(KEY.encode()).encrypt(b"oXyZ1234abcd")  # what the vault stored until 2026-12-04
    assert ContactCipher(KEY).open("ct_any", old) == "oXyZ1234abcd"


def test_a_row_that_does_not_open_is_an_unreadable_answer_that_does_not_hold_the_contact() -> None:
    cipher = ContactCipher(KEY)
    sealed = cipher.seal("ct_abc", "13812345678")
    assert cipher.reveal("ct_abc", sealed) == "13812345678"
    for ref, row in [("ct_other", sealed), ("ct_abc", sealed[:-1] + bytes([sealed[-1] ^ 1])), ("ct_abc", sealed[:5]),
                     ("ct_abc", Fernet(Fernet.generate_key()).encrypt(b"13812345678")), ("ct_abc", b""),
                     ("ct_abc", Fernet(KEY.encode()).encrypt(b"\xff\xfe"))]:
        answer = cipher.reveal(ref, row)
        assert isinstance(answer, UnreadableContact) and "13812345678" not in answer.reason, row
