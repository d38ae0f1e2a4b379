"""Side-by-side checkouts (GRIDLINE_PORT_OFFSET 0…900 in steps of 100) never share a listening port."""

from __future__ import annotations

import pytest

from deploy.local.processes import SUITE_BASES, suite_ports
from deploy.local.stack import PORTS

OFFSETS = range(0, 1000, 100)
EPHEMERAL = 32768


def every_port(monkeypatch: pytest.MonkeyPatch, offset: int) -> list[tuple[str, int]]:
    monkeypatch.setenv("GRIDLINE_PORT_OFFSET", str(offset))
    services = [(f"{suite}/{name}", port) for suite in SUITE_BASES for name, port in suite_ports(suite).items()]
    stacks = [(f"{profile}/{i}", port + offset) for profile, ports in PORTS.items() for i, port in enumerate(ports)]
    return [(f"{offset}:{what}", port) for what, port in services + stacks]


def test_no_two_listeners_of_any_checkouts_share_a_port(monkeypatch: pytest.MonkeyPatch) -> None:
    ports = [entry for offset in OFFSETS for entry in every_port(monkeypatch, offset)]
    owners: dict[int, list[str]] = {}
    for what, port in ports:
        owners.setdefault(port, []).append(what)
    assert {port: whats for port, whats in owners.items() if len(whats) > 1} == {}
    assert max(port for _, port in ports) < EPHEMERAL
