"""Signing in and out; every other route depends on `current_user`, state-changing ones on `csrf_user`.

The session token lives in an HttpOnly, SameSite=Strict cookie; the page reads its CSRF token from
`/api/me` and sends it in `X-CSRF-Token` (a cross-site form can neither read nor send it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from services.console.adapters import repository as repo
from services.console.domain.sessions import csrf_ok, new_session, token_hash
from services.console.domain.users import User, authenticate

router = APIRouter(prefix="/api", tags=["session"])
COOKIE = "gridline_console"


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


def _now() -> datetime:
    return datetime.now(UTC)


async def current_session(request: Request) -> tuple[User, str]:
    token = request.cookies.get(COOKIE)
    console = request.app.state.console
    if token:
        async with console.pool.acquire() as conn:
            found = await repo.session(conn, token_hash(token), _now())
        if found and found[0] in console.users:
            return console.users[found[0]], found[1]
    raise HTTPException(401, "sign in first")


async def current_user(session: Annotated[tuple[User, str], Depends(current_session)]) -> User:
    return session[0]


async def csrf_user(request: Request, session: Annotated[tuple[User, str], Depends(current_session)]) -> User:
    if not csrf_ok(session[1], request.headers.get("x-csrf-token")):
        raise HTTPException(403, "missing or wrong X-CSRF-Token")
    return session[0]


@router.post("/login", summary="Sign in: sets the session cookie, returns the user and the CSRF token")
async def login(body: Login, request: Request, response: Response) -> dict[str, Any]:
    console = request.app.state.console
    user = authenticate(console.users, body.username, body.password)
    now = _now()
    async with console.pool.acquire() as conn:
        if user is None:
            await repo.audit(conn, at=now, username=body.username, actor="-", action="login_failed", case_id=None,
                             detail={}, outcome="refused: wrong name or password")
            raise HTTPException(401, "wrong name or password")
        session = new_session(now, console.settings.session_hours)
        await repo.create_session(conn, session.token_hash, user.username, session.csrf, now, session.expires_at)
        await repo.audit(conn, at=now, username=user.username, actor=user.actor, action="login", case_id=None,
                         detail={}, outcome="accepted")
    response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict", secure=console.settings.cookie_secure,
                        max_age=int(console.settings.session_hours * 3600), path="/")
    return {"user": user.public(), "csrf": session.csrf}


@router.post("/logout", summary="Sign out (ends the session)")
async def logout(request: Request, response: Response, user: Annotated[User, Depends(csrf_user)]) -> dict[str, str]:
    token = request.cookies.get(COOKIE, "")
    async with request.app.state.console.pool.acquire() as conn:
        await repo.end_session(conn, token_hash(token))
        await repo.audit(conn, at=_now(), username=user.username, actor=user.actor, action="logout", case_id=None,
                         detail={}, outcome="accepted")
    response.delete_cookie(COOKIE, path="/")
    return {"status": "signed out"}


@router.get("/me", summary="Who is signed in, and the CSRF token for this session")
async def me(session: Annotated[tuple[User, str], Depends(current_session)]) -> dict[str, Any]:
    return {"user": session[0].public(), "csrf": session[1]}
