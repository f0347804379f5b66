"""Small fixed topologies that pin a scenario down to one precise case."""

from __future__ import annotations

from typing import Any

from tests.chaos.checks import converge
from tests.chaos.cluster import Cluster


async def two_groups_on_one_host(
    cluster: Cluster,
) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """Host-0 with port p in group g and port q in group h; host-1 with one port in g."""
    rest = cluster.rest
    net = await rest.network("groups")
    await rest.subnet(net["id"], "10.90.0.0/24")
    g = (await rest.security_group("g"))["id"]
    h = (await rest.security_group("h"))["id"]
    a, b = cluster.hosts[0].name, cluster.hosts[1].name
    p = await rest.port(net["id"], a, security_groups=[g])
    q = await rest.port(net["id"], a, security_groups=[h])
    await rest.port(net["id"], b, security_groups=[g])
    await converge(cluster)
    return p, q, g, h


async def regroup(cluster: Cluster, port: dict[str, Any], groups: list[str]) -> None:
    """PUT a port's security groups."""
    body = {"port": {"security_groups": groups}}
    await cluster.rest.ok("PUT", f"/v2.0/ports/{port['id']}", body)
