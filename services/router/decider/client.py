"""The router's side of its decision worker: start it, send it the next poll's incidents, read its
answers, start it again when it exits or its tables are not the router's.

Nothing waits for the worker: until it has said which tables it loaded (and whenever it is down, or
its tables differ from the router's current ones), `ask` returns None and the router decides in its own
loop. An answer is a future; it resolves to None when the worker exits before answering."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys

from runtime.logging import get_logger
from services.router.decider.wire import HEADER, HELLO, Packed, frame, unframe
from services.router.settings import RouterSettings

log = get_logger(__name__)
Answer = asyncio.Future[list[Packed] | None]
TABLE_SETTINGS = ("responsibility_list_dir", "city_dir", "model_path", "knowledge_dir", "confidence_threshold")


class DecisionWorker:
    def __init__(self, settings: RouterSettings, backoff_max: float = 60.0) -> None:
        self.settings = settings
        self.backoff_max = backoff_max
        self.digest: str | None = None  # of the running worker's tables, once it said so
        self.pid: int | None = None
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._pending: dict[int, Answer] = {}
        self._ids = itertools.count()
        self._restarted_for = ""  # the router's digest the last deliberate restart was for
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Start the process (it loads its tables while the router loads its own)."""
        if self._proc is None:
            chosen = self.settings.model_dump(mode="json", include=set(TABLE_SETTINGS))
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "services.router.decider", json.dumps(chosen), str(os.getpid()),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            self.pid = self._proc.pid

    async def run(self, stop: asyncio.Event) -> None:
        """Read answers until `stop`; a worker that exits is started again (after a backoff when it died
        before it was ready). Never raises for the worker's sake: the router does not depend on it."""
        delay = 1.0
        closer = asyncio.create_task(self._close_on(stop))
        try:
            while not stop.is_set():
                await self.start()
                assert self._proc is not None
                ready = await self._serve(self._proc)
                code = await self._proc.wait()
                self._proc, self.digest, self.pid = None, None, None
                self._ready.clear()
                for answer in self._pending.values():
                    if not answer.done():
                        answer.set_result(None)
                self._pending.clear()
                if stop.is_set():
                    return
                self.restarts += 1
                delay = 1.0 if ready else min(delay * 2, self.backoff_max)
                log.warning("decision_worker_exited", code=code, ready=ready, restart_in=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        finally:
            closer.cancel()
            self.kill()

    async def ready(self, within: float) -> bool:
        """Whether the worker said which tables it loaded, waiting up to `within` seconds for it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), within)
        return self._ready.is_set()

    def ask(self, digest: str, incidents: list[bytes]) -> Answer | None:
        """Send incidents (their JSON) to be decided under tables of this digest; None when the worker
        cannot (not ready, down, or other tables: then it is restarted once for these tables)."""
        proc = self._proc
        if not digest or proc is None or proc.stdin is None or proc.stdin.is_closing() or self.digest is None:
            return None
        if self.digest != digest:
            if self._restarted_for != digest:
                self._restarted_for = digest
                log.info("decision_worker_tables_changed", worker=self.digest, router=digest)
                self.kill()
            return None
        request_id = next(self._ids)
        answer = self._pending[request_id] = asyncio.get_running_loop().create_future()
        proc.stdin.write(frame((request_id, incidents)))
        return answer

    def late(self) -> None:
        """An answer did not come in time: the worker is stuck, start it again."""
        log.warning("decision_worker_late", pending=len(self._pending))
        self.kill()

    def kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()

    async def _serve(self, proc: asyncio.subprocess.Process) -> bool:
        """Answers until the worker's stdout closes; whether it got ready."""
        assert proc.stdout is not None
        ready = False
        while True:
            try:
                header = await proc.stdout.readexactly(HEADER.size)
                key, body = unframe(await proc.stdout.readexactly(HEADER.unpack(header)[0]))
            except asyncio.IncompleteReadError:
                return ready
            if key == HELLO:
                self.digest, ready = body, True
                self._ready.set()
                log.info("decision_worker_ready", pid=proc.pid, digest=body)
            elif (answer := self._pending.pop(key, None)) is not None and not answer.done():
                answer.set_result(body)

    async def _close_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        if self._proc is not None and self._proc.stdin is not None:
            self._proc.stdin.close()  # the worker answers what it holds, sees the end of its input and exits
