"""The auto transport's VPC topics (spec §2.5): a host subscribed to a VPC topic holds every
neighbor of that VPC, beyond its own view. The audit must count them as wanted, and a
server crash must not lose track of who consumes which topic."""

from __future__ import annotations

from typing import Any

import pytest

from tests.chaos.checks import converge, settle, subscribed_hosts
from tests.chaos.cluster import AUTO_SETTINGS, Cluster
from tests.chaos.conftest import MakeCluster

pytestmark = pytest.mark.chaos


async def two_subnets_on_a_topic(cluster: Cluster) -> list[dict[str, Any]]:
    """Host-0 with two ports on one subnet, host-1 with three on another subnet of the same
    network: five bound ports put the network on its topic; return host-1's ports."""
    rest = cluster.rest
    net = await rest.network("topic")
    s1 = await rest.subnet(net["id"], "10.91.1.0/24")
    s2 = await rest.subnet(net["id"], "10.91.2.0/24")
    a, b = cluster.hosts[0].name, cluster.hosts[1].name
    for _ in range(2):
        await rest.port(net["id"], a, fixed_ips=[{"subnet_id": s1["id"]}])
    far = [await rest.port(net["id"], b, fixed_ips=[{"subnet_id": s2["id"]}]) for _ in range(3)]
    await subscribed_hosts(cluster, at_least=2)
    await converge(cluster)
    return far


@pytest.mark.slow
async def test_audit_counts_vpc_topic_neighbors_as_wanted(make_cluster: MakeCluster, kafka_broker):
    """Host-0 holds host-1's neighbors from the topic: that is no drift."""
    cluster = await topic_cluster(make_cluster, kafka_broker.bootstrap)
    await two_subnets_on_a_topic(cluster)
    await settle(cluster)


@pytest.mark.slow
async def test_vpc_topic_consumers_survive_a_server_crash(make_cluster: MakeCluster, kafka_broker):
    """After a kill -9 the server still knows who consumes the topic, and what a host got
    from it (neighbors and subnets outside its view) is withdrawn when no longer wanted."""
    cluster = await topic_cluster(make_cluster, kafka_broker.bootstrap)
    far = await two_subnets_on_a_topic(cluster)
    await cluster.crash_server()
    await cluster.rest.ok("DELETE", f"/v2.0/ports/{far[0]['id']}", status=204)
    await settle(cluster)


async def topic_cluster(make_cluster: MakeCluster, kafka: str, hosts: int = 2) -> Cluster:
    """Auto hosts with a low channel-selection threshold."""
    return await make_cluster(["auto"] * hosts, kafka=kafka, settings=AUTO_SETTINGS)


@pytest.mark.slow
async def test_a_deleted_port_leaves_the_ledger_of_a_topic_subscriber(
    make_cluster: MakeCluster, kafka_broker
):
    """Host-1 held its own port's neighbor per host before subscribing; the port is deleted
    (the topic carries the DELETE): host-1's ledger must not keep showing it held."""
    cluster = await topic_cluster(make_cluster, kafka_broker.bootstrap)
    far = await two_subnets_on_a_topic(cluster)
    await cluster.rest.ok("DELETE", f"/v2.0/ports/{far[0]['id']}", status=204)
    await settle(cluster)


@pytest.mark.slow
async def test_a_host_leaving_a_topic_vpc_keeps_nothing_of_it(
    make_cluster: MakeCluster, kafka_broker
):
    """Host-0's ports move to host-2: host-0 must end holding nothing of the VPC."""
    cluster = await topic_cluster(make_cluster, kafka_broker.bootstrap, hosts=3)
    await two_subnets_on_a_topic(cluster)
    rest = cluster.rest
    for port in (await rest.get("/v2.0/ports?binding:host_id=host-0"))["ports"]:
        body = {"port": {"binding:host_id": "host-2"}}
        await rest.ok("PUT", f"/v2.0/ports/{port['id']}", body)
    await settle(cluster)
