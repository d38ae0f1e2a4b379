"""A single-node Apache Kafka (KRaft, combined broker+controller) from Maven Central jars.

Jars are resolved by Maven (deploy/local/kafka/pom.xml) into `.local/kafka-libs`; Maven's own cache
(~/.m2) makes later resolutions offline-fast. Data lives under the profile's directory in `.local/`.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POM = Path(__file__).resolve().parent / "kafka" / "pom.xml"
LIBS = ROOT / ".local" / "kafka-libs"


@dataclass(frozen=True)
class KafkaNode:
    home: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "kafka.out"


def ensure_jars() -> Path:
    """Resolve the broker's runtime jars once; a marker file makes the next call free."""
    marker = LIBS / ".resolved"
    if marker.exists() and marker.read_text() == POM.read_text():
        return LIBS
    if LIBS.exists():
        shutil.rmtree(LIBS)
    subprocess.run(
        ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
         "-DincludeScope=runtime", f"-DoutputDirectory={LIBS}"],
        check=True,
    )
    marker.write_text(POM.read_text())
    return LIBS


def _write_config(node: KafkaNode) -> Path:
    data = node.home / "data"
    cfg = node.home / "server.properties"
    cfg.write_text(
        "\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.bootstrap.servers=127.0.0.1:{node.controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{node.port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={data}",
            "auto.create.topics.enable=false",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=6",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "group.initial.rebalance.delay.ms=0",
            "delete.topic.enable=true",
            "",
        ])
    )
    (node.home / "log4j.properties").write_text(
        "log4j.rootLogger=WARN, stdout\n"
        "log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n"
        "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n"
        "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
        "log4j.logger.kafka.server.KafkaServer=INFO\nlog4j.logger.kafka.Kafka=INFO\n"
    )
    (node.home / "log4j2.properties").write_text(
        "rootLogger.level=WARN\nrootLogger.appenderRef.out.ref=out\n"
        "appender.out.type=Console\nappender.out.name=out\nappender.out.layout.type=PatternLayout\n"
        "appender.out.layout.pattern=[%d] %p %m (%c)%n\n"
    )
    return cfg


def _java(node: KafkaNode, *args: str) -> list[str]:
    return [
        "java", "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true",
        f"-Dlog4j.configuration=file:{node.home / 'log4j.properties'}",
        f"-Dlog4j2.configurationFile={node.home / 'log4j2.properties'}",
        "-cp", f"{LIBS}/*", *args,
    ]


def _running_pid(node: KafkaNode) -> int | None:
    """The broker's pid while it runs. A broker killed but not yet reaped (a zombie: our own child after
    a SIGKILL) is not running — it is reaped here, so a restart right after a crash starts at once."""
    try:
        pid = int(node.pid_file.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return None if is_zombie(pid) else pid


def is_zombie(pid: int) -> bool:
    """True for a process that has exited but not been reaped (reaping it when it is our child)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    if state not in ("Z", "X"):
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return True


def crash(node: KafkaNode) -> None:
    """SIGKILL the broker (a crash: no controlled shutdown) and wait until it is gone (and reaped)."""
    stop(node, sig=signal.SIGKILL)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start(node: KafkaNode, timeout: float = 90) -> None:
    """Idempotent: formats storage on first use, starts the broker, waits until it accepts clients."""
    ensure_jars()
    node.home.mkdir(parents=True, exist_ok=True)
    if _running_pid(node) is None:
        cfg = _write_config(node)
        if not (node.home / "data" / "meta.properties").exists():
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            subprocess.run(
                _java(node, "kafka.tools.StorageTool", "format", "--standalone",
                      f"--cluster-id={cluster_id}", "-c", str(cfg)),  # an id may start with "-"
                check=True, stdout=subprocess.DEVNULL,
            )
        with node.log_file.open("ab") as out:
            proc = subprocess.Popen(
                _java(node, "kafka.Kafka", str(cfg)), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        node.pid_file.write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while not _port_open(node.port):
        if _running_pid(node) is None:
            raise RuntimeError(f"Kafka exited during start; see {node.log_file}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"Kafka did not open port {node.port} in {timeout}s; see {node.log_file}")
        time.sleep(0.3)


def stop(node: KafkaNode, timeout: float = 30, sig: int = signal.SIGTERM) -> None:
    pid = _running_pid(node)
    if pid is None:
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while _running_pid(node) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    if _running_pid(node) is not None:
        os.kill(pid, signal.SIGKILL)
    node.pid_file.unlink(missing_ok=True)
