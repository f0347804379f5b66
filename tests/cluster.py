"""Several real `alcor serve` processes on one PostgreSQL database (the scale-out shape).

`cluster` (function fixture) returns a starter: `await cluster.start()` launches one more
process on a free port against the test's database (`postgres_url`) and waits until it
serves; `.kill(i)` is a kill -9, `.stop(i)` a SIGTERM. Every process is stopped at the end.

`race(...)` runs conflicting requests through different processes in a known order: writes
to the tables they change are held back (reads pass) until every request waits on a lock,
either at its held write (after its checks) or at an advisory lock another holds.
`race_behind(...)` holds one request at its own write while the other runs to its end;
`start_ahead(...)` holds a starting process while a request runs to its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.kafka_broker import free_port

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60.0
START_ATTEMPTS = 3


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
        for _ in range(START_ATTEMPTS):
            process = self._spawn(settings)
            if await self._wait_healthy(process):
                self.processes.append(process)
                return process
            # A port free when picked may be taken before the child binds it (another
            # process's outgoing connection): pick new ones.
            if process.alive or "Address already in use" not in process.log.read_text():
                break
        if process.alive:
            process.proc.kill()
            process.proc.wait()
        pytest.fail(f"alcor serve did not start:\n{process.log.read_text()[-3000:]}")

    def _spawn(self, settings: dict[str, str]) -> Process:
        port, grpc_port = free_port(), free_port()
        log = self.workdir / f"serve-{len(self.processes)}.log"
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
        return Process(proc, f"http://127.0.0.1:{port}", grpc_port, log)

    async def _wait_healthy(self, process: Process) -> bool:
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        async with aiohttp.ClientSession() as session:
            while asyncio.get_running_loop().time() < deadline:
                if not process.alive:
                    return False
                try:
                    async with session.get(f"{process.url}/healthz") as resp:
                        if resp.status == 200:
                            return True
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        return False

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


# Sessions waiting for a lock the asking (holding) session holds, or one that such a waiter
# holds: at a held write or row, or at an advisory lock (store.lock) of a request held so.
# Other waits (the processes' own background work) do not count. From pg_locks, read live:
# pg_stat_activity would show the state of the first read in the asking transaction.
_WAITING_SQL = """
WITH held AS (
    SELECT DISTINCT pid FROM pg_locks
    WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))
)
SELECT count(DISTINCT l.pid) FROM pg_locks l
WHERE NOT l.granted AND (
    l.pid IN (SELECT pid FROM held)
    OR EXISTS (SELECT 1 FROM held h WHERE h.pid = ANY(pg_blocking_pids(l.pid)))
)
"""
_WAITS_SQL = (
    "SELECT l.pid, l.locktype, l.relation::regclass::text, l.mode, a.state, "
    "left(a.query, 80) FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE NOT l.granted OR l.mode = 'ShareLock'"
)
RACE_TIMEOUT_S = 20.0


@contextlib.asynccontextmanager
async def held(db_url: str, sql: str, *params: Any) -> AsyncIterator[asyncpg.Connection]:
    """Run `sql` in a transaction kept open until the block ends, then rolled back: the
    locks it takes (a table's writes, a row, an uncommitted row's key) hold back whoever
    needs them meanwhile, and what it wrote never was."""
    conn = await asyncpg.connect(db_url)
    try:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await conn.execute(sql, *params)
            yield conn
        finally:
            await transaction.rollback()
    finally:
        await conn.close()


async def lock_waiters(conn: asyncpg.Connection) -> int:
    """Return how many sessions wait on a lock the session of `conn` holds (or on one
    that such a waiter holds): background work held at a table `held` locks."""
    return int(await conn.fetchval(_WAITING_SQL))


def share(tables: Sequence[str]) -> str:
    """Return the SQL that holds back every write to `tables` (reads pass)."""
    names = ", ".join(f'"{table}"' for table in tables)
    return f"LOCK TABLE {names} IN SHARE MODE"


async def _waiting(
    conn: asyncpg.Connection,
    count: int,
    tasks: Sequence[asyncio.Task[Any]],
    settled: bool = False,
) -> None:
    """Return once `count` sessions wait on a lock (or, `settled`, once the tasks are all
    done); fail when one of the tasks ends first (it never reached its write)."""
    deadline = asyncio.get_running_loop().time() + RACE_TIMEOUT_S
    while await conn.fetchval(_WAITING_SQL) < count:
        if settled and all(task.done() for task in tasks):
            return
        done = [task.result() for task in tasks if task.done()]
        if done and not settled:
            pytest.fail(f"a request ended before its write: {done}")
        if asyncio.get_running_loop().time() > deadline:
            waits = [tuple(row) for row in await conn.fetch(_WAITS_SQL)]
            pytest.fail(f"the requests did not all reach a lock: {waits}")
        await asyncio.sleep(0.02)


Request = tuple[str, str, str, Any]  # url, method, path, body


def _cancel(tasks: Sequence[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()


async def race(
    db_url: str, tables: Sequence[str], requests: Sequence[Request], headers: dict[str, str]
) -> list[tuple[int, Any]]:
    """Send the requests at once with writes to `tables` held until all of them wait on a
    lock (at a held write, past their checks, or at another's lock), then let them go;
    return their (status, body)."""
    async with aiohttp.ClientSession() as session:
        async with held(db_url, share(tables)) as conn:
            tasks = [asyncio.create_task(call(session, *r, headers)) for r in requests]
            try:
                await _waiting(conn, len(tasks), tasks)
            except BaseException:
                _cancel(tasks)
                raise
        return list(await asyncio.gather(*tasks))


async def race_behind(
    db_url: str,
    hold: tuple[Any, ...],
    first: Request,
    second: Request,
    headers: dict[str, str],
) -> list[tuple[int, Any]]:
    """Run `first` until it waits on the lock `hold` (SQL and its parameters) takes: on a
    row it writes past its checks. Then run `second` to its end, or until it waits on a
    lock too; then let `first` go on. Return both (status, body), in that order.

    Where a write and its check share no compare-and-swap (the same parent row's revision
    read before the check), this is the interleaving that a lock before the check stops:
    `second` checks, writes and commits between `first`'s check and its write."""
    return list(
        await _behind(db_url, hold, lambda session: call(session, *first, headers), second, headers)
    )


async def start_ahead(
    group: Cluster, hold: tuple[Any, ...], second: Request, headers: dict[str, str]
) -> tuple[int, Any]:
    """Start one more process until it waits on the lock `hold` (SQL and its parameters)
    takes, then run `second` to its end or until it waits on a lock too; then let the
    process go on. Return the (status, body) of `second` once the process serves.

    What a starting process writes from what it reads (the segment pools it rebuilds) must
    hold against a request that commits meanwhile, as in `race_behind`."""
    _, result = await _behind(group.db_url, hold, lambda _: group.start(), second, headers)
    return result


async def _behind(
    db_url: str,
    hold: tuple[Any, ...],
    first: Callable[[aiohttp.ClientSession], Awaitable[Any]],
    second: Request,
    headers: dict[str, str],
) -> tuple[Any, tuple[int, Any]]:
    """Run `first` until it waits on the lock `hold` takes, then `second` to its end or to
    a lock of its own; then let `first` go on. Return both results."""
    async with aiohttp.ClientSession() as session:
        async with held(db_url, *hold) as conn:
            tasks: list[asyncio.Task[Any]] = [asyncio.create_task(first(session))]
            try:
                await _waiting(conn, 1, tasks)
                tasks.append(asyncio.create_task(call(session, *second, headers)))
                await _waiting(conn, 2, tasks[1:], settled=True)
            except BaseException:
                _cancel(tasks)
                raise
        first_result, second_result = await asyncio.gather(*tasks)
        return first_result, second_result
