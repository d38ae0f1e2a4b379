"""Operators of the console: centre operators (指挥中心) and department users (职能部门), with roles.

Users are configuration data (data/users.yaml) holding only salted PBKDF2 hashes of their passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

ITERATIONS = 120_000


class Role(StrEnum):
    CENTRE = "centre"  # sees every case; dispatches, arbitrates
    DEPARTMENT = "department"  # sees and acts on its own department's cases only


class User(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str = Field(pattern=r"^[a-z0-9_.-]{2,40}$")
    name: str
    role: Role
    department: str | None = Field(default=None, description="department code, for department users")
    password_hash: str = Field(pattern=r"^pbkdf2_sha256\$\d+\$[0-9a-f]+\$[0-9a-f]+$")

    @property
    def actor(self) -> str:
        """Who the action API records: `CENTER:<username>` for the centre, the department code otherwise."""
        return f"CENTER:{self.username}" if self.role is Role.CENTRE else str(self.department)

    def public(self) -> dict[str, str | None]:
        return {"username": self.username, "name": self.name, "role": self.role.value,
                "department": self.department, "actor": self.actor}


def hash_password(password: str, *, salt: str | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    _, iterations, salt, digest = stored.split("$")
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)


def authenticate(users: dict[str, User], username: str, password: str) -> User | None:
    """The user, when the password matches; unknown names cost the same work as wrong passwords."""
    user = users.get(username)
    if user is None:
        verify_password(password, hash_password("unknown-user", salt="00" * 16))
        return None
    return user if verify_password(password, user.password_hash) else None
