"""Several real `alcor serve` processes on one PostgreSQL database (the scale-out shape).

`cluster` (function fixture) returns a starter: `await cluster.start()` launches one more
process on a free port against the test's database (`postgres_url`) and waits until it
serves; `.kill(i)` is a kill -9, `.stop(i)` a SIGTERM. Every process is stopped at the end.

`race(...)` runs conflicting requests through different processes in a known order: writes
to the tables they change are held back (reads pass) until every request waits on a lock,
either at its held write (after its checks) or at an advisory lock another holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.kafka_broker import free_port

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60.0


@dataclass
class Process:
    """One `alcor serve` child."""

    proc: subprocess.Popen[bytes]
    url: str
    grpc_port: int
    log: Path

    @property
    def alive(self) -> bool:
        """Tell whether the process still runs."""
        return self.proc.poll() is None


@dataclass
class Cluster:
    """The processes of one test, all on the same database."""

    db_url: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    async def start(self, **settings: str) -> Process:
        """Start one more process (`settings`: extra ALCOR__SECTION__KEY values)."""
        port, grpc_port = free_port(), free_port()
        index = len(self.processes)
        log = self.workdir / f"serve-{index}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALCOR")}
        env.update(
            {
                "ALCOR__STORE__URL": self.db_url,
                "ALCOR__SOUTHBOUND__GRPC_SERVER__PORT": str(grpc_port),
                "ALCOR__QUOTAS__PORT": "-1",
                "ALCOR__QUOTAS__NETWORK": "-1",
                "ALCOR__QUOTAS__SUBNET": "-1",
                **self.env,
                **settings,
            }
        )
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(BIN / "alcor"), "serve", "--port", str(port), "--log-level", "warning"],
                cwd=self.workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = Process(proc, f"http://127.0.0.1:{port}", grpc_port, log)
        self.processes.append(process)
        await self._wait_healthy(process)
        return process

    async def _wait_healthy(self, process: Process) -> None:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        async with aiohttp.ClientSession() as session:
            while asyncio.get_running_loop().time() < deadline:
                if not process.alive:
                    break
                try:
                    async with session.get(f"{process.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        pytest.fail(f"alcor serve did not start:\n{process.log.read_text()[-3000:]}")

    def kill(self, index: int) -> None:
        """kill -9 one process (no shutdown of any kind)."""
        process = self.processes[index]
        process.proc.send_signal(signal.SIGKILL)
        process.proc.wait()

    def stop(self, index: int) -> int:
        """SIGTERM one process and return its exit code."""
        process = self.processes[index]
        process.proc.send_signal(signal.SIGTERM)
        return process.proc.wait(timeout=60)

    def close(self) -> None:
        """Kill whatever still runs."""
        for process in self.processes:
            if process.alive:
                process.proc.kill()
                process.proc.wait()


@pytest.fixture
async def cluster(postgres_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Start `alcor serve` processes on this test's PostgreSQL database."""
    group = Cluster(postgres_url, tmp_path)
    try:
        yield group
    finally:
        group.close()


async def call(
    session: aiohttp.ClientSession,
    url: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """Send one API request; return (status, JSON body or None)."""
    async with session.request(method, url + path, json=body, headers=headers) as resp:
        data = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, data


# Sessions of the test's database (other than the asker) waiting for a lock of any kind:
# a table lock (a held write) or an advisory lock (store.lock).
_WAITING_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)
_SESSIONS_SQL = (
    "SELECT state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
RACE_TIMEOUT_S = 30.0


@contextlib.asynccontextmanager
async def writes_held(db_url: str, tables: Sequence[str]) -> AsyncIterator[asyncpg.Connection]:
    """Hold back every write to `tables` (reads pass: SHARE mode) until the block ends."""
    conn = await asyncpg.connect(db_url)
    try:
        async with conn.transaction():
            names = ", ".join(f'"{table}"' for table in tables)
            await conn.execute(f"LOCK TABLE {names} IN SHARE MODE")
            yield conn
    finally:
        await conn.close()


async def _all_waiting(conn: asyncpg.Connection, tasks: list[asyncio.Task[Any]]) -> None:
    """Return once every request waits on a lock; fail when one ends before that (it
    never reached its write: the race did not happen)."""
    deadline = asyncio.get_running_loop().time() + RACE_TIMEOUT_S
    while await conn.fetchval(_WAITING_SQL) < len(tasks):
        done = [task.result() for task in tasks if task.done()]
        if done:
            pytest.fail(f"a request ended before its write: {done}")
        if asyncio.get_running_loop().time() > deadline:
            sessions = await conn.fetch(_SESSIONS_SQL)
            pytest.fail(f"the requests did not all reach a lock: {[tuple(s) for s in sessions]}")
        await asyncio.sleep(0.02)


async def race(
    db_url: str,
    tables: Sequence[str],
    requests: Sequence[tuple[str, str, str, Any]],
    headers: dict[str, str],
) -> list[tuple[int, Any]]:
    """Send (url, method, path, body) requests at once with writes to `tables` held until
    all of them wait on a lock, then let them go; return their (status, body)."""
    async with aiohttp.ClientSession() as session:
        tasks = []
        try:
            async with writes_held(db_url, tables) as conn:
                tasks = [
                    asyncio.create_task(call(session, url, method, path, body, headers))
                    for url, method, path, body in requests
                ]
                await _all_waiting(conn, tasks)
            return list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:
                task.cancel()
