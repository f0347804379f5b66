"""The machine's limits, measured in the same run, and every figure as a fraction of its own.

Limits (each a row of the report's `limits`):

| id | what |
|---|---|
| `sqlite_commit` | ports/s writing a port create's rows, one port per commit (sqlite_limit.py) |
| `sqlite_bulk` | the same, `bulk_size` ports per commit |
| `http_1`, `http_n` | no-op HTTP requests/s, 1 client and `clients` clients (aiohttp both sides) |
| `grpc_1`, `grpc_n` | no-op pushes/s over the push path's transport, to 1 agent and to `agents` |

A run on a faster or a quieter machine raises the limits with the figures, so the fractions
compare across machines and loads where the absolute figures do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from alcor.bench import sqlite_limit
from alcor.bench.client import Client
from alcor.bench.scenarios import Progress, Sizes, make_network, timed_concurrent, timed_loop
from alcor.bench.server import agent_block
from alcor.bench.stats import Samples

NOOP_AGENTS_IP = agent_block(1)


@contextlib.asynccontextmanager
async def noop_process(*args: str) -> AsyncIterator[dict[str, Any]]:
    """Run `python -m alcor.bench.noop ARGS` and yield what it bound."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alcor.bench.noop", *args, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if not line:
            raise RuntimeError(f"alcor.bench.noop {' '.join(args)} exited without serving")
        yield json.loads(line)
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


async def sqlite_limits(
    client: Client, server: Any, sizes: Sizes, progress: Progress
) -> list[Samples]:
    """Capture one real port create's writes in the server's file and replay them."""
    net_id, _ = await make_network(client, "limits-net", "172.31.0.0/16")
    body = {"port": {"network_id": net_id, "name": "limits-warm"}}
    await client.call("POST", "/v2.0/ports", body)  # mints the network's MAC and SG rows
    before = sqlite_limit.snapshot(server.db)
    await client.call("POST", "/v2.0/ports", {"port": {"network_id": net_id, "name": "limits"}})
    writes = sqlite_limit.capture(server.db, before, sqlite_limit.snapshot(server.db))
    ticks = iter(range(1, 4))

    def tick() -> None:
        progress("machine limits: SQLite", next(ticks), 3)

    batches = max(10, sizes.bulk_batches)  # a bulk round of a second or so, not 50 ms
    single, bulk = await asyncio.get_running_loop().run_in_executor(
        None,
        sqlite_limit.measure,
        writes,
        sizes.limit_calls,
        batches,
        sizes.bulk_size,
        tick,
    )
    rows = writes.rows_written()
    return [
        _rate("SQLite, 1 port per commit", "sqlite_commit", single, sizes.limit_calls, rows),
        _rate(
            f"SQLite, {sizes.bulk_size:,} ports per commit",
            "sqlite_bulk",
            bulk,
            batches * sizes.bulk_size,
            rows,
        ),
    ]


def _rate(name: str, limit: str, per_s: float, count: int, rows: int) -> Samples:
    samples = Samples(name, count=count, wall=count / per_s)
    samples.extra.update(limit=limit, rows_per_port=rows, rounds="median of 3")
    return samples


async def http_limits(sizes: Sizes, progress: Progress) -> list[Samples]:
    """No-op POSTs of a port-sized body to an aiohttp server in a child process."""
    async with noop_process("http", "127.0.0.1") as bound:
        client = Client(bound["url"])
        body = {"port": {"network_id": str(uuid.uuid4()), "name": "noop"}}

        async def call(i: int) -> float:
            return (await client.call("POST", "", body))[1]

        try:
            for i in range(min(50, sizes.limit_calls)):  # connect and warm up, as the API is
                await call(i)
            one = await timed_loop("HTTP no-op, 1 client", sizes.limit_calls, call, progress)
            many = await timed_concurrent(
                f"HTTP no-op, {sizes.clients} clients",
                sizes.limit_calls,
                sizes.clients,
                call,
                progress,
            )
        finally:
            await client.close()
    one.extra["limit"], many.extra["limit"] = "http_1", "http_n"
    return [one, many]


async def grpc_limits(sizes: Sizes, transport: str, progress: Progress) -> list[Samples]:
    """Empty goal states over the transport to agents that answer an empty reply."""
    async with noop_process("grpc", NOOP_AGENTS_IP, str(sizes.agents)) as bound:
        agents = [tuple(a) for a in bound["agents"]]
        one, many = await push_rates(
            transport, agents, lambda i: b"", sizes.limit_calls, progress, "no-op"
        )
    one.extra["limit"], many.extra["limit"] = "grpc_1", "grpc_n"
    return [one, many]


async def push_rates(
    transport_name: str,
    agents: list[tuple[str, int]],
    payload: Callable[[int], bytes],
    pushes: int,
    progress: Progress,
    label: str,
    prelude: bytes = b"",
) -> tuple[Samples, Samples]:
    """Push payload(i) sequentially to the first agent, then to all at once (one in flight
    each), after `prelude` once to every agent (which also connects every channel).

    Each Samples also carries the controller's CPU per push (process and event loop thread).
    """
    from alcor.southbound.base import NodeTarget, SouthboundContext
    from alcor.southbound.loader import transport_class

    transport = transport_class(transport_name)(SouthboundContext(config={}))
    nodes = [
        NodeTarget(node_id=f"bench-{ip}", node_name=ip, local_ip=ip, server_port=port)
        for ip, port in agents
    ]
    await transport.start()
    try:

        def push_to(node: NodeTarget) -> Callable[[int], Any]:
            async def push(i: int) -> float:
                data = payload(i)
                started = time.perf_counter()
                await transport.push(node, data, request_id=str(i), timeout=30)
                return time.perf_counter() - started

            return push

        await asyncio.gather(
            *(transport.push(n, prelude, request_id="prelude", timeout=30) for n in nodes)
        )
        prefix = f"{transport_name} {label} push"
        one = await _cpu_timed(
            timed_loop(f"{prefix}, 1 agent", pushes, push_to(nodes[0]), progress)
        )
        many = await _cpu_timed(
            _all_agents(f"{prefix}, {len(nodes)} agents", nodes, pushes, push_to, progress)
        )
    finally:
        await transport.stop()
    return one, many


async def _all_agents(
    name: str,
    nodes: list[Any],
    pushes: int,
    push_to: Callable[[Any], Callable[[int], Any]],
    progress: Progress,
) -> Samples:
    samples = Samples(name, extra={"agents": len(nodes)})
    per_agent = max(1, pushes // len(nodes))

    async def worker(node: Any) -> None:
        push = push_to(node)
        for i in range(per_agent):
            samples.add(await push(i))
            progress(name, samples.count, per_agent * len(nodes))

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in nodes))
    samples.wall = time.perf_counter() - started
    return samples


async def _cpu_timed(run: Any) -> Samples:
    """Await a timed run and note the CPU time per operation (µs): the whole process's, and
    the event loop thread's alone (what the API would wait for; grpcio frames on its own
    threads)."""
    cpu, loop_cpu = time.process_time(), time.thread_time()
    samples: Samples = await run
    ops = max(1, samples.count)
    samples.extra["cpu_us_per_op"] = round((time.process_time() - cpu) / ops * 1e6, 1)
    samples.extra["loop_cpu_us_per_op"] = round((time.thread_time() - loop_cpu) / ops * 1e6, 1)
    return samples


# (scenario name prefix, the row's value, the limits it is a fraction of)
FRACTIONS: tuple[tuple[str, Callable[[dict[str, Any]], Any], tuple[str, ...]], ...] = (
    ("network create, 1 client", lambda r: r.get("per_s"), ("http_1",)),
    ("subnet create, 1 client", lambda r: r.get("per_s"), ("http_1",)),
    ("port create, 1 client", lambda r: r.get("per_s"), ("sqlite_commit", "http_1", "serial_1")),
    ("port create, ", lambda r: r.get("per_s"), ("sqlite_commit", "http_n")),
    ("bulk port create", lambda r: r.get("ports_per_s"), ("sqlite_bulk",)),
    ("GET ", lambda r: r.get("per_s"), ("http_1",)),
    ("list ", lambda r: r.get("per_s"), ("http_1",)),
    ("filter ", lambda r: r.get("per_s"), ("http_1",)),
    # Every port is pushed to every host of its network: per_s x agents pushes per second.
    # (The curve's rows, "e2e curve", run other agent counts than the limit: none there.)
    ("e2e at", lambda r: r.get("per_s", 0) * r.get("agents", 0), ("grpc_n",)),
)

LIMIT_LABELS = {
    "sqlite_commit": "SQLite 1 port/commit",
    "sqlite_bulk": "SQLite bulk",
    "http_1": "HTTP no-op",
    "http_n": "HTTP no-op",
    "grpc_1": "gRPC no-op",
    "grpc_n": "gRPC no-op",
    "serial_1": "serial bound",
}


def serial_bound(by_id: dict[str, float]) -> float | None:
    """Return the fastest one client can create ports one after another: each create is an
    HTTP round trip (the no-op's) and, only after it, a commit (the 1-port limit's); one
    client's next request waits for both. None without both limits."""
    http, commit = by_id.get("http_1"), by_id.get("sqlite_commit")
    if not http or not commit:
        return None
    return 1 / (1 / http + 1 / commit)


def attach_fractions(results: list[dict[str, Any]], limits: list[dict[str, Any]]) -> None:
    """Add `of_limit` {limit id: fraction} to every result row that a measured limit bounds."""
    by_id: dict[str, float] = {row["limit"]: row["per_s"] for row in limits if row.get("per_s")}
    serial = serial_bound(by_id)
    if serial is not None:
        by_id["serial_1"] = serial
    for row in results:
        rule = next((f for f in FRACTIONS if row["name"].startswith(f[0])), None)
        if rule is None:
            continue
        value = rule[1](row)
        shares = {
            limit: round(value / by_id[limit], 3) for limit in rule[2] if limit in by_id and value
        }
        if shares:
            row["of_limit"] = shares


def describe(shares: dict[str, float]) -> str:
    """Return `52% SQLite 1 port/commit, 20% HTTP no-op` for a row's fractions."""
    return ", ".join(f"{share * 100:.3g}% {LIMIT_LABELS.get(k, k)}" for k, share in shares.items())
