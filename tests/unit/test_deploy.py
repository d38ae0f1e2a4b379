"""Deployment manifests stay consistent with the services (no cluster or Docker engine here)."""

from __future__ import annotations

from pathlib import Path

import yaml

from deploy.local.processes import SERVICES
from deploy.local.topics import load_specs

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_every_service_has_a_deployment_with_health_probes_on_its_port() -> None:
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "gridline.yaml").read_text()))
    deployments = {d["metadata"]["name"]: d for d in docs if d and d["kind"] == "Deployment"}
    for name, port in SERVICES.items():
        container = deployments[f"gridline-{name}"]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", f"services.{name}"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}


def test_compose_runs_every_service() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yml").read_text())
    for name, port in SERVICES.items():
        assert compose["services"][name]["command"] == ["python", "-m", f"services.{name}"]
        assert compose["services"][name]["ports"] == [f"{port}:{port}"]


def test_topics_file_gives_every_consumed_topic_a_dead_letter_topic_and_compacts_scores() -> None:
    specs = {s.name: s for s in load_specs()}
    for topic in ("intake.hotline.v1", "intake.grid.v1", "intake.wechat.v1", "intake.actions.v1",
                  "case.events.v1", "sla.events.v1"):
        assert f"{topic}.dlq" in specs
    assert specs["scoring.v1"].configs["cleanup.policy"] == "compact"
