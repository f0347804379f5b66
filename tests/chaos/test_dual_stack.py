"""Scenario 6: dual-stack networks. One network with an IPv4 and an IPv6 subnet, ports with
both (and IPv6-only ones), a router, migrations, a delete and an agent restart: every
neighbor carries every fixed IP, IPv4 ones in ARP and IPv6 ones in neighbor discovery."""

from __future__ import annotations

import pytest

from tests.chaos.checks import converge, settle
from tests.chaos.conftest import MakeCluster

pytestmark = pytest.mark.chaos


async def dual_stack(make_cluster: MakeCluster, rng, router_on_v6: bool) -> None:
    """One dual-stack anchor port per host, six more (two IPv6-only) moving around."""
    cluster = await make_cluster(["grpc", "grpc", "grpc"])
    rest = cluster.rest
    net = await rest.network("dual")
    v4 = await rest.subnet(net["id"], "10.60.0.0/24")
    v6 = await rest.subnet(net["id"], "fd00:60::/64")
    router = await rest.router("dual-r")
    for subnet in (v4, v6) if router_on_v6 else (v4,):
        path = f"/v2.0/routers/{router['id']}/add_router_interface"
        await rest.ok("PUT", path, {"subnet_id": subnet["id"]})
    names = [h.name for h in cluster.hosts]
    both = [{"subnet_id": v4["id"]}, {"subnet_id": v6["id"]}]
    # Anchors keep both subnets on every host (test_neighbor_subnets_stay_on_a_host covers
    # a host left with IPv6-only ports).
    for name in names:
        await rest.port(net["id"], name, fixed_ips=both)
    ports = []
    for i in range(6):
        fixed = [{"subnet_id": v6["id"]}] if i % 3 == 2 else both
        ports.append(await rest.port(net["id"], rng.choice(names), fixed_ips=fixed))
    await converge(cluster)
    for port in rng.sample(ports, 3):
        body = {"port": {"binding:host_id": rng.choice(names)}}
        await rest.ok("PUT", f"/v2.0/ports/{port['id']}", body)
    victim = rng.choice(cluster.hosts)
    victim.agent.kill()
    await rest.ok("DELETE", f"/v2.0/ports/{ports[0]['id']}", status=204)
    await victim.agent.start()
    await settle(cluster)
    nd = [e for d in (await cluster.dumps()).values() for e in d["nd"]]
    assert nd, "no IPv6 neighbor-discovery entry on any host"


async def test_dual_stack_ports_reach_every_host(make_cluster: MakeCluster, rng):
    """Dual-stack and IPv6-only ports, the router on the IPv4 subnet."""
    await dual_stack(make_cluster, rng, router_on_v6=False)


@pytest.mark.slow
async def test_dual_stack_router_reaches_every_host(make_cluster: MakeCluster, rng):
    """As above with the router on both subnets."""
    await dual_stack(make_cluster, rng, router_on_v6=True)


@pytest.mark.slow
async def test_neighbor_subnets_stay_on_a_host(make_cluster: MakeCluster):
    """Host-0 keeps an IPv6-only port when its dual-stack port moves away: its dual-stack
    neighbors still name the IPv4 subnet, which must stay there as a context (§3.1)."""
    cluster = await make_cluster(["grpc", "grpc"])
    rest = cluster.rest
    net = await rest.network("dual")
    v4 = await rest.subnet(net["id"], "10.62.0.0/24")
    v6 = await rest.subnet(net["id"], "fd00:62::/64")
    both = [{"subnet_id": v4["id"]}, {"subnet_id": v6["id"]}]
    a, b = cluster.hosts[0].name, cluster.hosts[1].name
    await rest.port(net["id"], a, fixed_ips=[{"subnet_id": v6["id"]}])
    mover = await rest.port(net["id"], a, fixed_ips=both)
    await rest.port(net["id"], b, fixed_ips=both)
    await converge(cluster)
    await rest.ok("PUT", f"/v2.0/ports/{mover['id']}", {"port": {"binding:host_id": b}})
    await settle(cluster)
