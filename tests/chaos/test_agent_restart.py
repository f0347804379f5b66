"""Scenario 3: an agent is killed -9 in the middle of changes and restarted (it announces
itself with AGENT_RESTARTED), on each transport: grpc, kafka and auto (with a VPC large
enough to move its neighbors to a VPC topic)."""

from __future__ import annotations

import asyncio

import pytest

from tests.chaos.checks import converge, settle, subscribed_hosts
from tests.chaos.cluster import AUTO_SETTINGS
from tests.chaos.conftest import MakeCluster
from tests.chaos.workload import Workload

pytestmark = pytest.mark.chaos


async def kill_and_restart(
    make_cluster: MakeCluster, rng, transport: str, kafka: str | None = None
) -> None:
    """Kill one agent during changes, change more while it is down, restart it, settle."""
    settings = AUTO_SETTINGS if transport == "auto" else {}
    cluster = await make_cluster([transport] * 3, kafka=kafka, settings=settings)
    work = Workload(cluster, rng)
    await work.setup(ports=8)  # one of the two networks has more than 3 bound ports
    candidates = await subscribed_hosts(cluster) if transport == "auto" else cluster.hosts
    await converge(cluster)
    victim = rng.choice(candidates)
    changes = asyncio.create_task(work.run(4))
    await asyncio.sleep(rng.uniform(0.0, 0.1))
    victim.agent.kill()
    work.done.append(f"(agent of {victim.name} killed)")
    await changes
    await work.create_port(victim.name)
    port = work.a_port()
    if port:
        await work.migrate(port, victim.name)
    await work.delete_random()
    await work.run(3)
    await victim.agent.start()
    work.done.append(f"(agent of {victim.name} restarted)")
    print("\n".join(work.done))
    await settle(cluster)
    if transport == "auto":
        subscribed = {t for d in (await cluster.dumps()).values() for t in d["subscriptions"]}
        print("VPC topic subscriptions:", subscribed)
        assert any(t.startswith("alcor-vpc-") for t in subscribed), cluster.describe()


async def test_grpc_agent_killed_and_restarted(make_cluster: MakeCluster, rng):
    """gRPC: the restarted agent gets its full state back, nothing stale stays anywhere."""
    await kill_and_restart(make_cluster, rng, "grpc")


@pytest.mark.parametrize(
    "transport",
    [
        "kafka",
        pytest.param("auto", marks=pytest.mark.slow),
    ],
)
async def test_kafka_agent_killed_and_restarted(
    make_cluster: MakeCluster, rng, kafka_broker, transport: str
):
    """Kafka and auto: the host topic (and VPC topic) resume; nothing stale stays anywhere."""
    await kill_and_restart(make_cluster, rng, transport, kafka=kafka_broker.bootstrap)
