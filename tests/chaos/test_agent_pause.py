"""Scenario 2: agents SIGSTOPped past the push deadline while ports are created and deleted.

While they are stopped the API must not show as acked (or as deleted) anything those agents
did not answer; after SIGCONT every host converges.
"""

from __future__ import annotations

import pytest

from tests.chaos.checks import assert_audit_not_clean, check_stalled, converge, settle
from tests.chaos.conftest import MakeCluster
from tests.chaos.workload import Workload

pytestmark = pytest.mark.chaos

SHORT_DEADLINE = {
    "southbound.deadline_base_s": 0.5,
    "southbound.deadline_per_state_ms": 0.0,
    "southbound.audit_timeout_s": 1.0,
}


async def pause_through_changes(make_cluster: MakeCluster, rng, hosts: int, changes: int) -> None:
    """Pause some agents, make `changes` creates/deletes/migrations, check, resume, settle."""
    cluster = await make_cluster(["grpc"] * hosts, settings=SHORT_DEADLINE)
    work = Workload(cluster, rng)
    await work.setup(ports=2 * hosts)
    await converge(cluster)
    frozen = await cluster.dumps()
    paused = rng.sample(cluster.hosts, max(1, hosts - 1))
    for host in paused:
        host.agent.pause()
    await work.stir([h.name for h in paused], changes)
    still = {h.node_id: frozen[h.node_id] for h in paused}
    await check_stalled(cluster, still)
    await assert_audit_not_clean(cluster, list(still))
    for host in paused:
        host.agent.resume()
    print("\n".join(work.done))
    await settle(cluster)


async def test_paused_agents_miss_the_deadline_and_catch_up(make_cluster: MakeCluster, rng):
    """Two of three agents stopped through eight changes."""
    await pause_through_changes(make_cluster, rng, hosts=3, changes=8)


@pytest.mark.slow
async def test_paused_agents_through_many_changes(make_cluster: MakeCluster, rng):
    """Four of five agents stopped through forty changes."""
    await pause_through_changes(make_cluster, rng, hosts=5, changes=40)
