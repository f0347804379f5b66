"""Allowed-address-pair IPs are neighbors of their port on every host that reaches it (ARP
for IPv4, neighbor discovery for IPv6), through changes of the pairs, a migration and an
agent restart."""

from __future__ import annotations

import pytest

from tests.chaos.checks import converge, settle
from tests.chaos.conftest import MakeCluster

pytestmark = pytest.mark.chaos


@pytest.mark.slow
async def test_address_pairs_reach_every_host(make_cluster: MakeCluster, rng):
    """Pairs with and without a MAC, IPv4 and IPv6, changed, migrated, after a restart."""
    cluster = await make_cluster(["grpc", "grpc", "grpc"])
    rest = cluster.rest
    net = await rest.network("pairs")
    await rest.subnet(net["id"], "10.61.0.0/24")
    await rest.subnet(net["id"], "fd00:61::/64")
    names = [h.name for h in cluster.hosts]
    vip = {"ip_address": "10.61.0.200"}
    vip_mac = {"ip_address": "10.61.0.201", "mac_address": "fa:16:3e:00:61:01"}
    vip6 = {"ip_address": "fd00:61::200"}
    a = await rest.port(net["id"], names[0], allowed_address_pairs=[vip, vip6])
    b = await rest.port(net["id"], names[1], allowed_address_pairs=[vip_mac])
    await rest.port(net["id"], names[2])
    await converge(cluster)
    await rest.ok("PUT", f"/v2.0/ports/{a['id']}", {"port": {"allowed_address_pairs": [vip_mac]}})
    await rest.ok("PUT", f"/v2.0/ports/{b['id']}", {"port": {"allowed_address_pairs": [vip, vip6]}})
    await rest.ok("PUT", f"/v2.0/ports/{b['id']}", {"port": {"binding:host_id": rng.choice(names)}})
    victim = rng.choice(cluster.hosts)
    victim.agent.kill()
    await victim.agent.start()
    await settle(cluster)
