"""Scenario 5: the Kafka broker is paused (SIGSTOP) while changes happen on kafka hosts.
Nothing may be shown acked that the agents did not apply; after SIGCONT every host
converges."""

from __future__ import annotations

import pytest

from tests.chaos.checks import check_stalled, converge, settle
from tests.chaos.conftest import MakeCluster
from tests.chaos.workload import Workload

pytestmark = pytest.mark.chaos


async def test_paused_broker_delays_but_loses_nothing(
    make_cluster: MakeCluster, rng, private_kafka
):
    """Creates, deletes and migrations while the broker is stopped; then it resumes."""
    cluster = await make_cluster(["kafka"] * 3, kafka=private_kafka.bootstrap)
    work = Workload(cluster, rng)
    await work.setup(ports=6)
    await converge(cluster)
    private_kafka.freeze()
    try:
        await work.stir([h.name for h in cluster.hosts], 8)
        await check_stalled(cluster, await cluster.dumps())  # running, starved agents
    finally:
        private_kafka.thaw()
    print("\n".join(work.done))
    await settle(cluster)
