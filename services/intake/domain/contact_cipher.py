"""The callback vault's cipher (回访 contacts at rest): AES-256-GCM, each contact bound to its ref.

Until 2026-12-04 the vault stored Fernet tokens (AES-128-CBC + HMAC-SHA256, base64 text): ~8 µs a
contact in Python, a tenth of intake's CPU per incident on the batch path (py-spy, docs/benchmarks.md
"Intake, sixth pass"). AES-GCM from the same `cryptography` is one call into OpenSSL (~1 µs), and the
ref is its associated data, so a ciphertext copied under another ref does not open. The setting stays
`INTAKE_CONTACT_KEY` (a Fernet key): the AES key is derived from it with HKDF-SHA256, so no new secret
is needed and old rows open with the same key.

A sealed contact is `0x01 ‖ nonce (12 random bytes) ‖ ciphertext ‖ tag (16)`. A Fernet token is base64
text starting with `g` (its version byte 0x80), so the first byte tells the two apart: rows written
before open as Fernet tokens (not bound to their ref: the vault seals them again on their first reveal).
Random 96-bit nonces under one key stay far inside GCM's limits (2³² contacts per key; the busiest
hotline takes ~2.5 × 10⁷ a year). What GCM and the Fernet rows still give away: ADR 010, "Known limits".

A row that does not open (another key, another ref's ciphertext, altered or truncated) is an
`UnreadableContact` answer of `reveal`, not an exception: the vault's read path logs it as such.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

AES_GCM_V1 = b"\x01"
_NONCE = 12
_INFO = b"gridline intake contact vault: aes-256-gcm v1"


@dataclass(frozen=True)
class UnreadableContact:
    """A vault row that does not open under this key and ref; `reason` names why without the contact."""

    reason: str


class ContactCipher:
    """Seal a contact for the vault under its ref; open what the vault holds (either format)."""

    def __init__(self, contact_key: str) -> None:
        self._fernet = Fernet(contact_key.encode())  # validates the key as before; opens the old rows
        secret = base64.urlsafe_b64decode(contact_key.encode())
        self._aead = AESGCM(HKDF(algorithm=SHA256(), length=32, salt=None, info=_INFO).derive(secret))

    def seal(self, ref: str, contact: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return AES_GCM_V1 + nonce + self._aead.encrypt(nonce, contact.encode(), AES_GCM_V1 + ref.encode())

    def open(self, ref: str, sealed: bytes) -> str:
        """The contact (raises `cryptography.exceptions.InvalidTag` / `InvalidToken` if it is not this
        ref's, or was altered)."""
        if not self.bound(sealed):
            return self._fernet.decrypt(sealed).decode()
        nonce, body = sealed[1:1 + _NONCE], sealed[1 + _NONCE:]
        return self._aead.decrypt(nonce, body, AES_GCM_V1 + ref.encode()).decode()

    @staticmethod
    def bound(sealed: bytes) -> bool:
        """Whether the row is bound to its ref (AES-GCM); a Fernet token written before is not (ADR 010)."""
        return sealed[:1] == AES_GCM_V1

    def reveal(self, ref: str, sealed: bytes) -> str | UnreadableContact:
        """`open`, with a row that does not open as a value (a nonce too short raises ValueError, bytes that
        are not UTF-8 UnicodeDecodeError, a ValueError too)."""
        try:
            return self.open(ref, sealed)
        except InvalidTag:
            return UnreadableContact("does not open under this key and ref (AES-GCM tag mismatch)")
        except InvalidToken:
            return UnreadableContact("a Fernet token that does not open under this key (or not a token)")
        except ValueError as exc:
            return UnreadableContact(f"malformed row ({type(exc).__name__})")
