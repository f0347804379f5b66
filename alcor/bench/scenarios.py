"""Benchmark scenarios over HTTP: api-create, list, scale (any Neutron-compatible endpoint)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from alcor.bench.client import Client
from alcor.bench.stats import Samples

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Sizes:
    """How much each scenario does (`--quick` keeps every scenario under a minute)."""

    seq: int  # sequential creates per resource
    clients: int  # concurrent clients
    concurrent: int  # total concurrent port creates
    bulk_batches: int
    bulk_size: int
    list_stored: int  # ports stored for the paginated/filtered lists and the scale scenario
    fanout_hosts: int
    fanout_ports: int
    e2e_ports: int
    e2e_rate: float
    agents: int
    zeta_ports: int  # the zeta scenario: ports of its one VPC
    zeta_hosts: int  # ... bound round-robin over these hosts
    zeta_rounds: int  # ... measured this many times with Zeta off and on (median)
    zeta_port_batch: int  # zeta.port_batch
    limit_calls: int = 2000  # one-port commits, no-op requests and no-op pushes per limit
    # api-under-push: creates at this rate, without agents and with this many (rounds)
    under_push_agents: int = 100
    under_push_ports: int = 1500
    under_push_rate: float = 100.0
    under_push_rounds: int = 3


TINY = Sizes(
    seq=5,
    clients=2,
    concurrent=10,
    bulk_batches=1,
    bulk_size=10,
    list_stored=1_200,
    fanout_hosts=10,
    fanout_ports=100,
    e2e_ports=10,
    e2e_rate=50.0,
    agents=2,
    limit_calls=20,
    under_push_agents=2,
    under_push_ports=20,
    under_push_rate=50.0,
    under_push_rounds=1,
    zeta_ports=200,
    zeta_hosts=10,
    zeta_rounds=1,
    zeta_port_batch=4000,
)
QUICK = Sizes(
    seq=200,
    clients=16,
    concurrent=640,
    bulk_batches=3,
    bulk_size=500,
    list_stored=10_000,
    fanout_hosts=1000,
    fanout_ports=10_000,
    e2e_ports=200,
    e2e_rate=100.0,
    agents=8,
    limit_calls=1000,
    under_push_ports=500,
    under_push_rounds=1,
    zeta_ports=2000,
    zeta_hosts=20,
    zeta_rounds=1,
    zeta_port_batch=4000,
)
STANDARD = Sizes(
    seq=1000,
    clients=16,
    concurrent=2000,
    bulk_batches=10,
    bulk_size=1000,
    list_stored=100_000,
    fanout_hosts=1000,
    fanout_ports=10_000,
    e2e_ports=2000,
    e2e_rate=500.0,
    agents=20,
    zeta_ports=10_000,
    zeta_hosts=100,
    zeta_rounds=3,
    zeta_port_batch=4000,
)
FULL = Sizes(
    seq=1000,
    clients=16,
    concurrent=2000,
    bulk_batches=10,
    bulk_size=1000,
    list_stored=1_000_000,
    fanout_hosts=1000,
    fanout_ports=10_000,
    e2e_ports=5000,
    e2e_rate=500.0,
    agents=50,
    zeta_ports=10_000,
    zeta_hosts=100,
    zeta_rounds=3,
    zeta_port_batch=4000,
)


async def timed_loop(
    name: str, n: int, fn: Callable[[int], Awaitable[float]], progress: Progress
) -> Samples:
    """Run fn(i) sequentially n times, recording its latency."""
    samples = Samples(name)
    started = time.perf_counter()
    for i in range(n):
        samples.add(await fn(i))
        progress(name, i + 1, n)
    samples.wall = time.perf_counter() - started
    return samples


async def timed_concurrent(
    name: str, n: int, clients: int, fn: Callable[[int], Awaitable[float]], progress: Progress
) -> Samples:
    """Run n calls of fn spread over `clients` concurrent workers."""
    samples = Samples(name, extra={"clients": clients})
    counter = iter(range(n))
    done = 0

    async def worker() -> None:
        nonlocal done
        for i in counter:
            samples.add(await fn(i))
            done += 1
            progress(name, done, n)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    samples.wall = time.perf_counter() - started
    return samples


async def make_network(client: Client, name: str, cidr: str) -> tuple[str, str]:
    """Create a network with one IPv4 subnet; return (network id, subnet id)."""
    net, _ = await client.call("POST", "/v2.0/networks", {"network": {"name": name}})
    sub, _ = await client.call(
        "POST",
        "/v2.0/subnets",
        {
            "subnet": {
                "network_id": net["network"]["id"],
                "ip_version": 4,
                "cidr": cidr,
                "name": name,
            }
        },
    )
    return net["network"]["id"], sub["subnet"]["id"]


async def api_create(client: Client, sizes: Sizes, progress: Progress) -> list[Samples]:
    """Networks, subnets and ports: sequential, concurrent and bulk creates."""
    net_id, _ = await make_network(client, "ports-net", "172.16.0.0/16")
    results = []

    async def network(i: int) -> float:
        return (await client.call("POST", "/v2.0/networks", {"network": {"name": f"n{i}"}}))[1]

    nets: list[str] = []

    async def network_keep(i: int) -> float:
        body, elapsed = await client.call("POST", "/v2.0/networks", {"network": {"name": f"n{i}"}})
        nets.append(body["network"]["id"])
        return elapsed

    async def subnet(i: int) -> float:
        return (
            await client.call(
                "POST",
                "/v2.0/subnets",
                {
                    "subnet": {
                        "network_id": nets[i],
                        "ip_version": 4,
                        "cidr": f"10.{1 + i // 250}.{i % 250}.0/24",
                    }
                },
            )
        )[1]

    async def port(i: int) -> float:
        return (
            await client.call(
                "POST", "/v2.0/ports", {"port": {"network_id": net_id, "name": f"p{i}"}}
            )
        )[1]

    results.append(await timed_loop("network create, 1 client", sizes.seq, network_keep, progress))
    results.append(await timed_loop("subnet create, 1 client", sizes.seq, subnet, progress))
    results.append(await timed_loop("port create, 1 client", sizes.seq, port, progress))
    results.append(
        await timed_concurrent(
            f"port create, {sizes.clients} clients", sizes.concurrent, sizes.clients, port, progress
        )
    )

    async def bulk(i: int) -> float:
        items = [{"network_id": net_id, "name": f"b{i}-{j}"} for j in range(sizes.bulk_size)]
        return (await client.call("POST", "/v2.0/ports", {"ports": items}))[1]

    batches = await timed_loop("bulk port create", sizes.bulk_batches, bulk, progress)
    batches.extra["ports_per_batch"] = sizes.bulk_size
    batches.extra["ports_per_s"] = round(sizes.bulk_batches * sizes.bulk_size / batches.wall, 1)
    results.append(batches)
    del network
    return results


async def fill_ports(
    client: Client,
    net_id: str,
    total: int,
    batch: int,
    progress: Progress,
    label: str,
    start: int = 0,
) -> None:
    """Bulk-create ports until `total` exist on the network (named p<i>)."""
    done = start
    while done < total:
        n = min(batch, total - done)
        items = [{"network_id": net_id, "name": f"p{done + j}"} for j in range(n)]
        await client.call("POST", "/v2.0/ports", {"ports": items})
        done += n
        progress(label, done, total)


async def repeat_get(client: Client, name: str, path: str, times: int = 5) -> Samples:
    """GET a path several times; keep every latency (report median and min)."""
    samples = Samples(name, extra={"path": path})
    started = time.perf_counter()
    for _ in range(times):
        body, elapsed = await client.call("GET", path)
        samples.add(elapsed)
    samples.wall = time.perf_counter() - started
    samples.extra["min_ms"] = round(min(samples.latencies) * 1000, 3)
    collection = next(iter(body)) if isinstance(body, dict) and body else None
    if collection:
        samples.extra["items"] = len(body[collection])
    return samples


async def lists(client: Client, sizes: Sizes, progress: Progress) -> tuple[list[Samples], str]:
    """GET 1,000 ports, then paginated/filtered lists with many ports stored."""
    net_id, _ = await make_network(client, "list-net", "100.64.0.0/10")
    await fill_ports(client, net_id, 1000, 1000, progress, "storing 1,000 ports")
    results = [await repeat_get(client, "GET 1,000 ports", f"/v2.0/ports?network_id={net_id}")]
    await fill_ports(
        client,
        net_id,
        sizes.list_stored,
        1000,
        progress,
        f"storing {sizes.list_stored:,} ports",
        start=1000,
    )
    stored = f"{sizes.list_stored:,} ports stored"
    page, _ = await client.call("GET", f"/v2.0/ports?network_id={net_id}&limit=100")
    marker = page["ports"][-1]["id"]
    for name, path in (
        ("list limit=100", "/v2.0/ports?limit=100"),
        ("list limit=100 next page", f"/v2.0/ports?limit=100&marker={marker}"),
        ("list limit=100 sorted by name", "/v2.0/ports?limit=100&sort_key=name&sort_dir=asc"),
        ("filter name (1 match)", "/v2.0/ports?name=p7777"),
        ("filter fixed_ips ip_address", "/v2.0/ports?fixed_ips=ip_address%3D100.64.0.50"),
        ("list fields=id limit=1000", "/v2.0/ports?fields=id&limit=1000"),
    ):
        samples = await repeat_get(client, f"{name} ({stored})", path)
        results.append(samples)
        progress("lists", len(results), 7)
    return results, net_id


async def scale(server: Any, sizes: Sizes, progress: Progress) -> list[Samples]:
    """RSS with the stored ports, and start-up time / RSS after a restart."""
    samples = Samples(f"scale ({sizes.list_stored:,} ports stored)")
    samples.count = 1  # one restart measured
    samples.extra["rss_mb_loaded"] = round(server.rss_mb() or 0, 1)
    await server.stop()
    await server.start()
    samples.extra["startup_s"] = round(server.startup_s or 0, 3)
    samples.extra["rss_mb_after_restart"] = round(server.rss_mb() or 0, 1)
    samples.extra["db_mb"] = round(server.db.stat().st_size / 2**20, 1)
    progress("scale", 1, 1)
    return [samples]
