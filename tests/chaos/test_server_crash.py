"""Scenario 1: the server is killed -9 at random points of a workload and restarted on the
same database while the agents keep running; nothing may be lost or misreported."""

from __future__ import annotations

import asyncio
import random

import pytest

from tests.chaos.checks import settle
from tests.chaos.cluster import Cluster
from tests.chaos.conftest import MakeCluster
from tests.chaos.workload import Workload

pytestmark = pytest.mark.chaos


async def crash_during_workload(
    cluster: Cluster, work: Workload, rng: random.Random, ops: int, crashes: int
) -> None:
    """Run `ops` operations and kill -9 the server `crashes` times at random moments.

    Each crash lands a random 0-150 ms into an operation: before the commit, between the
    commit and the answer, or while the pushes it caused are in flight.
    """
    per_round = ops // (crashes + 1)
    for _ in range(crashes):
        runner = asyncio.create_task(work.run_until_gone(per_round))
        await asyncio.sleep(rng.uniform(0.0, 0.15) + 0.02 * rng.randrange(per_round))
        cluster.server.kill()
        work.done.append("(server killed)")
        await runner
        await cluster.server.start()
        await work.refresh()
    await work.run(ops - per_round * crashes)


async def test_server_killed_during_a_workload_loses_nothing(make_cluster: MakeCluster, rng):
    """Three crashes in 30 operations; every host ends exactly as REST says."""
    cluster = await make_cluster(["grpc", "grpc", "grpc"])
    work = Workload(cluster, rng)
    await work.setup(ports=6)
    await crash_during_workload(cluster, work, rng, ops=30, crashes=3)
    print("\n".join(work.done))
    await settle(cluster)


@pytest.mark.slow
async def test_server_killed_many_times_during_a_long_workload(make_cluster: MakeCluster, rng):
    """Eight crashes in 120 operations over four hosts."""
    cluster = await make_cluster(["grpc"] * 4)
    work = Workload(cluster, rng)
    await work.setup(ports=10)
    await crash_during_workload(cluster, work, rng, ops=120, crashes=8)
    print("\n".join(work.done))
    await settle(cluster)
