"""The other services, through their HTTP APIs only: router, sla, scoring (read-only) and intake's
department action API (the one way the console changes anything)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from services.console.settings import ConsoleSettings


@dataclass(frozen=True)
class Answer:
    """An upstream reply as a value: status and JSON (or the error text) — never an exception."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Upstream:
    client: httpx.AsyncClient
    settings: ConsoleSettings

    @classmethod
    def open(cls, settings: ConsoleSettings) -> Upstream:
        return cls(httpx.AsyncClient(timeout=settings.upstream_timeout_seconds), settings)

    async def close(self) -> None:
        await self.client.aclose()

    async def get(self, base: str, path: str, params: dict[str, Any] | None = None) -> Answer:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            resp = await self.client.get(base + path, params=clean)
        except httpx.HTTPError as exc:
            return Answer(503, {"detail": f"{base} unreachable: {exc.__class__.__name__}"})
        return _answer(resp)

    async def case(self, case_id: str) -> Answer:
        return await self.get(self.settings.router_url, f"/v1/cases/{_segment(case_id)}")

    async def clocks(self, case_id: str) -> Answer:
        return await self.get(self.settings.sla_url, f"/v1/sla/cases/{_segment(case_id)}")

    async def overdue(self, params: dict[str, Any]) -> Answer:
        return await self.get(self.settings.sla_url, "/v1/sla/overdue", params)

    async def due_soon(self, params: dict[str, Any]) -> Answer:
        return await self.get(self.settings.sla_url, "/v1/sla/due-soon", params)

    async def document(self, doc_id: str) -> Answer:
        return await self.get(self.settings.sla_url, f"/v1/sla/documents/{_segment(doc_id)}")

    async def document_html(self, doc_id: str) -> tuple[int, str]:
        try:
            resp = await self.client.get(f"{self.settings.sla_url}/v1/sla/documents/{_segment(doc_id)}.html")
        except httpx.HTTPError as exc:
            return 503, f"sla unreachable: {exc.__class__.__name__}"
        return resp.status_code, resp.text

    async def scores(self, params: dict[str, Any]) -> Answer:
        return await self.get(self.settings.scoring_url, "/v1/scores", params)

    async def scores_csv(self, params: dict[str, Any]) -> tuple[int, str]:
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        try:
            resp = await self.client.get(f"{self.settings.scoring_url}/v1/scores.csv", params=clean)
        except httpx.HTTPError as exc:
            return 503, f"scoring unreachable: {exc.__class__.__name__}"
        return resp.status_code, resp.text

    async def services(self) -> Answer:
        """The responsibility list's items as intake publishes them (Open311 services.json)."""
        return await self.get(self.settings.intake_url, "/open311/v2/services.json")

    async def act(self, case_id: str, action: dict[str, Any]) -> Answer:
        try:
            resp = await self.client.post(f"{self.settings.intake_url}/v1/cases/{_segment(case_id)}/actions",
                                          json=action, headers={"X-Api-Key": self.settings.intake_api_key})
        except httpx.HTTPError as exc:
            return Answer(503, {"detail": f"intake unreachable: {exc.__class__.__name__}"})
        return _answer(resp)


def _answer(resp: httpx.Response) -> Answer:
    try:
        body = resp.json()
    except ValueError:
        body = {"detail": resp.text[:500]}
    return Answer(resp.status_code, body)


def _segment(value: str) -> str:
    """A user's id as one path segment of the upstream URL: control characters, `/`, `?` and `#` are
    escaped, so an id can neither break the URL (httpx refuses control characters: it was a 500) nor
    reach another path or query of the upstream."""
    return quote(value, safe="")
