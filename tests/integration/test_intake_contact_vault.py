"""The callback vault's one read path, `Gateway.reveal_contact`, against the real database: every attempt is
in `contact_access_log` with its outcome, in the transaction that read the row, and a row that does not
open (another key, another ref's ciphertext, altered, truncated) is an answer, not an exception."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet

from deploy.local.stack import Stack
from services.intake.app import create_app
from services.intake.domain.contact_cipher import AES_GCM_V1, UnreadableContact
from services.intake.gateway import Gateway
from tests.integration.conftest import serve
from tests.integration.intake_support import intake_settings

pytestmark = pytest.mark.integration
PHONE = "13812345678"
DESK = "callback-desk:OP-0007"


@pytest_asyncio.fixture(loop_scope="session")
async def gateway(stack: Stack) -> AsyncIterator[Gateway]:
    app = create_app(intake_settings(stack))
    async with serve(app):
        yield app.state.gateway


async def put_rows(stack: Stack, rows: dict[str, bytes]) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        await conn.executemany("INSERT INTO intake.contact_vault (contact_ref, incident_id, ciphertext) "
                               "VALUES ($1, $2, $3)", [(ref, f"HL-{ref}", sealed) for ref, sealed in rows.items()])
    finally:
        await conn.close()


async def reads(stack: Stack, ref: str) -> list[tuple[str, str, str]]:
    conn = await asyncpg.connect(stack.database_url)
    try:
        found = await conn.fetch("SELECT purpose, accessor, outcome FROM intake.contact_access_log "
                                 "WHERE contact_ref = $1 ORDER BY id", ref)
    finally:
        await conn.close()
    return [(r["purpose"], r["accessor"], r["outcome"]) for r in found]


async def test_a_row_that_does_not_open_is_unreadable_and_every_read_is_logged_with_its_outcome(
    stack: Stack, gateway: Gateway, uid: str
) -> None:
    ok, swapped, other_key, altered, truncated, garbage, absent = (
        f"ct_{uid}_{name}" for name in ("ok", "swapped", "key", "altered", "truncated", "garbage", "absent"))
    good = gateway.vault.seal(ok, PHONE)
    await put_rows(stack, {
        ok: good,
        swapped: good,  # another ref's ciphertext copied under this one
        other_key: Fernet(Fernet.generate_key()).encrypt(PHONE.encode()),  # written under a key since rotated away
        altered: good[:-1] + bytes([good[-1] ^ 1]),
        truncated: good[:5],
        garbage: b"not a sealed contact",
    })
    assert await gateway.reveal_contact(ok, accessor=DESK) == PHONE
    for ref in (swapped, other_key, altered, truncated, garbage):
        answer = await gateway.reveal_contact(ref, accessor=DESK)
        assert isinstance(answer, UnreadableContact), (ref, answer)
        assert PHONE not in answer.reason
    assert await gateway.reveal_contact(absent, accessor=DESK) is None

    assert await reads(stack, ok) == [("callback", DESK, "revealed")]
    for ref in (swapped, other_key, altered, truncated, garbage):
        assert await reads(stack, ref) == [("callback", DESK, "unreadable")], ref
    assert await reads(stack, absent) == [("callback", DESK, "absent")]  # a probe for a ref is an attempt too


async def sealed_row(stack: Stack, ref: str) -> bytes:
    conn = await asyncpg.connect(stack.database_url)
    try:
        found: bytes = await conn.fetchval("SELECT ciphertext FROM intake.contact_vault WHERE contact_ref = $1", ref)
    finally:
        await conn.close()
    return found


async def test_a_fernet_row_is_sealed_again_bound_to_its_ref_when_first_revealed(
    stack: Stack, gateway: Gateway, uid: str
) -> None:
    """Rows written before 2026-12-04 are Fernet tokens, not bound to their ref (ADR 010): the first reveal
    seals the contact again with AES-GCM under the ref, in the transaction that read and logged it."""
    old, unreadable = f"ct_{uid}_fernet", f"ct_{uid}_fernet_bad"
    foreign = Fernet(Fernet.generate_key()).encrypt(PHONE.encode())
    await put_rows(stack, {old: Fernet(intake_settings(stack).contact_key.encode()).encrypt(PHONE.encode()),
                           unreadable: foreign})
    assert await gateway.reveal_contact(old, accessor=DESK) == PHONE
    bound = await sealed_row(stack, old)
    assert bound[:1] == AES_GCM_V1 and PHONE.encode() not in bound
    assert gateway.vault.open(old, bound) == PHONE
    assert isinstance(gateway.vault.reveal(f"ct_{uid}_elsewhere", bound), UnreadableContact)  # copied: no longer opens
    assert await gateway.reveal_contact(old, accessor=DESK) == PHONE
    assert await sealed_row(stack, old) == bound  # sealed once
    assert await reads(stack, old) == [("callback", DESK, "revealed")] * 2

    assert isinstance(await gateway.reveal_contact(unreadable, accessor=DESK), UnreadableContact)
    assert await sealed_row(stack, unreadable) == foreign  # what does not open is left as it was
