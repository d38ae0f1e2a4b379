"""Deployment manifests stay consistent with the services (no cluster or Docker engine here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()) if d]


def test_strimzi_topics_are_the_topics_file_with_three_replicas() -> None:
    declared = {t["spec"]["topicName"]: t for t in _docs("topics.yaml") if t["kind"] == "KafkaTopic"}
    specs = {s.name: s for s in load_specs()}
    assert set(declared) == set(specs)
    for name, spec in specs.items():
        topic = declared[name]["spec"]
        assert topic["partitions"] == spec.partitions and topic["replicas"] == 3
        for key in ("retention.ms", "cleanup.policy"):
            assert topic["config"][key] == spec.configs[key], (name, key)
        assert int(topic["config"]["min.insync.replicas"]) < topic["replicas"]  # one broker may be down


def consumed_topics() -> dict[str, set[str]]:
    """The topics each consuming service's group reads: the keys of its handler table."""
    from services.router.bootstrap import handlers as router
    from services.scoring.bootstrap import handlers as scoring
    from services.sla.bootstrap import handlers as sla

    return {"router": set(router(None)), "sla": set(sla(None)), "scoring": set(scoring())}  # type: ignore[arg-type]


def test_autoscalers_target_real_deployments_and_never_outgrow_the_partitions() -> None:
    deployments = {d["metadata"]["name"] for d in _docs("gridline.yaml") if d["kind"] == "Deployment"}
    scalers = {h["spec"]["scaleTargetRef"]["name"]: h["spec"] for h in _docs("autoscaling.yaml")
               if h["kind"] == "HorizontalPodAutoscaler"}
    assert set(scalers) <= deployments and "gridline-intake" in scalers
    partitions = {s.name: s.partitions for s in load_specs()}
    for service, topics in consumed_topics().items():
        spec = scalers[f"gridline-{service}"]
        assert 1 <= spec["minReplicas"] <= spec["maxReplicas"] <= min(partitions[t] for t in topics), service


def test_compose_sends_traces_to_the_collector_and_scrapes_every_service() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "docker-compose.yml").read_text())
    collector = yaml.safe_load((DEPLOY / "compose" / "otel-collector.yaml").read_text())
    prometheus = yaml.safe_load((DEPLOY / "compose" / "prometheus.yml").read_text())
    for name in SERVICES:
        env = compose["services"][name]["environment"]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    [exporter] = collector["service"]["pipelines"]["traces"]["exporters"]
    assert collector["exporters"][exporter]["endpoint"].split(":")[0] in compose["services"]  # jaeger
    [job] = prometheus["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert set(job["static_configs"][0]["targets"]) == {f"{n}:{p}" for n, p in SERVICES.items()}


def test_service_ports_are_the_settings_defaults() -> None:
    from services.console.settings import ConsoleSettings
    from services.intake.settings import IntakeSettings
    from services.router.settings import RouterSettings
    from services.scoring.settings import ScoringSettings
    from services.sla.settings import SlaSettings

    defaults = {"intake": IntakeSettings, "router": RouterSettings, "sla": SlaSettings, "scoring": ScoringSettings,
                "console": ConsoleSettings}
    assert {n: s.model_fields["port"].default for n, s in defaults.items()} == SERVICES
