"""`alcor bench --store postgresql --processes N`: one process on SQLite against N processes
on one PostgreSQL database, under the same load, in one run.

Each configuration gets a fresh store, its processes, and the same work: concurrent port
creates and concurrent port reads, spread round-robin over the processes by the client
(what a load balancer in front of them does). PostgreSQL is the one given by `--store-url`,
or a private server this run starts and removes (alcor/bench/postgres.py).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence

import asyncpg

from alcor.bench.client import Client
from alcor.bench.postgres import PostgresServer, make_template
from alcor.bench.scenarios import make_network, timed_concurrent
from alcor.bench.server import ServerProcess
from alcor.bench.stats import Samples

Progress = Callable[[str, int, int], None]


async def run(
    counts: Sequence[int],
    store_url: str | None,
    clients: int,
    creates: int,
    progress: Progress,
) -> list[Samples]:
    """Measure SQLite with one process, then PostgreSQL with each count of processes."""
    results = await _measure("SQLite, 1 process", [ServerProcess()], clients, creates, progress)
    server = None
    if store_url is None:
        server = PostgresServer()
        await asyncio.get_running_loop().run_in_executor(None, server.start)
        await make_template(server)
    try:
        for count in counts:
            url = await _fresh_database(server, store_url, f"bench_{count}")
            processes = [ServerProcess(extra_env={"ALCOR__STORE__URL": url}) for _ in range(count)]
            label = f"PostgreSQL, {count} process" + ("es" if count > 1 else "")
            results += await _measure(label, processes, clients, creates, progress)
    finally:
        if server is not None:
            server.remove()
    return results


async def _fresh_database(server: PostgresServer | None, store_url: str | None, name: str) -> str:
    """Return the URL of an empty alcor database (a private copy, or --store-url emptied)."""
    if server is not None:
        return await server.create_database(name)
    assert store_url is not None
    conn = await asyncpg.connect(store_url)
    try:
        # The migrations' seeded rows (default security group rule templates) stay.
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_version' AND tablename <> 'default_security_group_rules'"
        )
        if tables:
            await conn.execute("; ".join(f'DELETE FROM "{row[0]}"' for row in tables))
    finally:
        await conn.close()
    return store_url


async def _measure(
    label: str,
    processes: list[ServerProcess],
    clients: int,
    creates: int,
    progress: Progress,
) -> list[Samples]:
    """Start the processes, run the load through all of them, stop them."""
    try:
        await asyncio.gather(*(p.start() for p in processes))
        pool = [Client(p.url, connections=clients) for p in processes]
        try:
            return await _load(label, pool, clients, creates, progress)
        finally:
            for client in pool:
                await client.close()
    finally:
        for process in processes:
            await process.stop()
            process.cleanup()


async def _load(
    label: str, pool: list[Client], clients: int, creates: int, progress: Progress
) -> list[Samples]:
    net_id, _ = await make_network(pool[0], "scale", "10.128.0.0/12")
    turns = itertools.cycle(pool)
    ids: list[str] = []

    async def create(i: int) -> float:
        port = {"port": {"network_id": net_id, "name": f"s{i}"}}
        reply, elapsed = await next(turns).call("POST", "/v2.0/ports", port)
        ids.append(reply["port"]["id"])
        return elapsed

    async def read(i: int) -> float:
        return (await next(turns).call("GET", f"/v2.0/ports/{ids[i % len(ids)]}"))[1]

    created = await timed_concurrent(f"port create, {label}", creates, clients, create, progress)
    read_all = await timed_concurrent(f"port GET, {label}", creates, clients, read, progress)
    for samples in (created, read_all):
        samples.extra["processes"] = len(pool)
    return [created, read_all]
