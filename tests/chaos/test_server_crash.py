"""Scenario 1: the server is killed -9 at random points of a workload and restarted on the
same database while the agents keep running; nothing may be lost or misreported."""

from __future__ import annotations

import asyncio
import random

import pytest

from tests.chaos.checks import settle, wait_push_failed
from tests.chaos.cluster import AUTO_SETTINGS, Cluster
from tests.chaos.conftest import MakeCluster
from tests.chaos.setups import regroup, two_groups_on_one_host
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


async def crash_run(
    cluster: Cluster, rng: random.Random, ports: int, ops: int, crashes: int
) -> None:
    """Set a workload up, run it through `crashes` crashes, settle."""
    work = Workload(cluster, rng)
    await work.setup(ports=ports)
    await crash_during_workload(cluster, work, rng, ops=ops, crashes=crashes)
    print("\n".join(work.done))
    await settle(cluster)


async def test_server_killed_during_a_workload_loses_nothing(make_cluster: MakeCluster, rng):
    """Two crashes in 24 operations; every host ends exactly as REST says."""
    cluster = await make_cluster(["grpc", "grpc", "grpc"])
    await crash_run(cluster, rng, ports=6, ops=24, crashes=2)


@pytest.mark.slow
async def test_a_withdraw_in_flight_survives_a_crash(make_cluster: MakeCluster):
    """A group leaves a paused host's view, the server dies before the host answers the
    DELETE: after the restart the host must still lose the group."""
    cluster = await make_cluster(["grpc", "grpc"])
    p, _, _, h = await two_groups_on_one_host(cluster)
    host = cluster.hosts[0]
    host.agent.pause()
    await regroup(cluster, p, [h])  # g leaves host-0's view: DELETE g (rev 1) in flight
    await wait_push_failed(cluster, [host.node_id])
    await cluster.crash_server()
    host.agent.resume()
    await settle(cluster)


@pytest.mark.slow
async def test_a_group_withdrawn_and_wanted_again_across_a_crash(make_cluster: MakeCluster):
    """As above, then the group comes back to the host at the same revision: it must be
    sent again (the host deleted it)."""
    cluster = await make_cluster(["grpc", "grpc"])
    p, _, g, h = await two_groups_on_one_host(cluster)
    host = cluster.hosts[0]
    host.agent.pause()
    await regroup(cluster, p, [h])
    await wait_push_failed(cluster, [host.node_id])
    await cluster.crash_server()
    host.agent.resume()
    await regroup(cluster, p, [g, h])
    await settle(cluster)


@pytest.mark.slow
async def test_a_withdraw_just_before_a_crash_is_not_shown_held(make_cluster: MakeCluster):
    """A group leaves a running host's view and the server is killed at once: the host
    deletes it, and the restarted server must not keep showing it acked there."""
    cluster = await make_cluster(["grpc", "grpc"])
    p, _, _, h = await two_groups_on_one_host(cluster)
    await regroup(cluster, p, [h])
    await cluster.crash_server()
    await settle(cluster)


@pytest.mark.slow
async def test_a_withdraw_just_before_a_crash_then_wanted_again(make_cluster: MakeCluster):
    """As above, then the group comes back to the host (same revision): it must be sent."""
    cluster = await make_cluster(["grpc", "grpc"])
    p, _, g, h = await two_groups_on_one_host(cluster)
    await regroup(cluster, p, [h])
    await cluster.crash_server()
    await regroup(cluster, p, [g, h])
    await settle(cluster)


@pytest.mark.slow
async def test_server_killed_many_times_during_a_long_workload(make_cluster: MakeCluster, rng):
    """Eight crashes in 120 operations over four hosts."""
    cluster = await make_cluster(["grpc"] * 4)
    await crash_run(cluster, rng, ports=10, ops=120, crashes=8)


@pytest.mark.slow
@pytest.mark.parametrize(
    "transport",
    [
        "kafka",
        "auto",
    ],
)
async def test_server_killed_during_a_workload_on_kafka_hosts(
    make_cluster: MakeCluster, rng, kafka_broker, transport: str
):
    """Four crashes in 40 operations over three kafka (or auto) hosts."""
    settings = AUTO_SETTINGS if transport == "auto" else {}
    cluster = await make_cluster([transport] * 3, kafka=kafka_broker.bootstrap, settings=settings)
    await crash_run(cluster, rng, ports=8, ops=40, crashes=4)
