"""Scenario 7: migrations racing deletes. A PUT of binding:host_id to another host runs
concurrently with a DELETE of the same port, with a second migration of the same port
(spec §4.4), and with migrations and deletes of other ports of the same subnets."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable

import pytest

from tests.chaos.checks import converge, settle
from tests.chaos.conftest import MakeCluster
from tests.chaos.workload import Workload

pytestmark = pytest.mark.chaos


def racing_calls(work: Workload, rng: random.Random, port: str) -> list[Awaitable[int]]:
    """Return the calls of one race on `port` (started together by the caller)."""
    hosts = work.host_names
    race = rng.choice(["migrate-delete", "delete-migrate", "migrate-migrate", "unbind-delete"])
    if race == "migrate-delete":
        return [work.migrate(port, rng.choice(hosts)), work.delete_port(port)]
    if race == "delete-migrate":
        return [work.delete_port(port), work.migrate(port, rng.choice(hosts))]
    if race == "migrate-migrate":
        first, second = rng.sample(hosts, 2)
        return [work.migrate(port, first), work.migrate(port, second)]
    return [work.update_port(port, "unbind", **{"binding:host_id": ""}), work.delete_port(port)]


async def race_rounds(make_cluster: MakeCluster, rng, hosts: int, ports: int, rounds: int) -> None:
    """Run `rounds` rounds of concurrent races over most ports, then settle."""
    cluster = await make_cluster(["grpc"] * hosts)
    work = Workload(cluster, rng)
    await work.setup(ports=ports)
    await converge(cluster)
    for _ in range(rounds):
        calls: list[Awaitable[int]] = []
        for port in rng.sample(work.ports, max(1, len(work.ports) * 2 // 3)):
            calls += racing_calls(work, rng, port)
        rng.shuffle(calls)
        await asyncio.gather(*calls)
        await work.refresh()
        for _ in range(ports - len(work.ports)):
            await work.create_port()
    print("\n".join(work.done))
    await settle(cluster)


async def test_migrations_race_deletes(make_cluster: MakeCluster, rng):
    """Three rounds over ten ports on three hosts."""
    await race_rounds(make_cluster, rng, hosts=3, ports=10, rounds=3)


@pytest.mark.slow
async def test_migrations_race_deletes_at_length(make_cluster: MakeCluster, rng):
    """Ten rounds over twenty-four ports on four hosts."""
    await race_rounds(make_cluster, rng, hosts=4, ports=24, rounds=10)
