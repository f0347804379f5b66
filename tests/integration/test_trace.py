"""POST /trace over what the hosts acknowledged, and the agents enforcing the same tables.

Every verdict is checked three ways: the trace over what the hosts acknowledged (the
default), the trace over the intent (?source=intent), and the reference agents' own
evaluator over their real tables (AgentsWorld): intent = acked = held.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from alcor.agent.tables import AgentsWorld
from alcor.trace.evaluate import evaluate
from alcor.trace.model import Packet
from tests.integration.test_southbound_e2e import FAST_RETRIES, Cloud, _start_cloud


@pytest.fixture
async def cloud(make_config: Any) -> AsyncIterator[Cloud]:
    """Three hosts, fast retries."""
    async for item in _start_cloud(
        make_config,
        3,
        "127.2.4.1",
        **FAST_RETRIES,
    ):
        yield item


async def trace(cloud: Cloud, status: int = 200, source: str = "", **body: Any) -> dict[str, Any]:
    path = "/trace" + (f"?source={source}" if source else "")
    reply = await cloud.call("POST", path, body, status=status)
    return reply["trace"] if status == 200 else reply


def held_verdict(cloud: Cloud, packet: Packet) -> str:
    """The verdict of the agents' own evaluator over the tables they really hold."""
    world = AgentsWorld({ip: agent.state for ip, agent in cloud.pool.agents.items()})
    return evaluate(world, packet).verdict


def ip_of(port: dict[str, Any]) -> str:
    return str(port["fixed_ips"][0]["ip_address"])


async def group(cloud: Cloud, *rules: dict[str, Any]) -> str:
    sg = await cloud.call("POST", "/v2.0/security-groups", {"security_group": {"name": "g"}})
    sg_id = sg["security_group"]["id"]
    for rule in sg["security_group"]["security_group_rules"]:
        if rule["direction"] == "ingress":
            await cloud.call("DELETE", f"/v2.0/security-group-rules/{rule['id']}", status=204)
    for rule in rules:
        await cloud.call(
            "POST",
            "/v2.0/security-group-rules",
            {"security_group_rule": {"security_group_id": sg_id, **rule}},
        )
    return str(sg_id)


async def test_same_network_is_delivered_on_the_right_host(cloud):
    """Two ports of one subnet on two hosts: L2 to the other host, allowed by the default
    group's remote-group rule."""
    net, _ = await cloud.network(["10.60.0.0/24"])
    a, b = await cloud.port(net, 0), await cloud.port(net, 1)
    await cloud.idle()
    result = await trace(cloud, from_port=a["id"], to=ip_of(b), protocol="tcp", port=80)
    assert result["verdict"] == "delivered", result
    assert result["source"] == "acked" and result["differences"] == []
    stages = [h["stage"] for h in result["hops"]]
    assert stages == ["port", "security-group egress", "l2", "security-group ingress", "port"]
    assert result["hops"][-1]["host"] == "node-1"
    assert result["hops"][-1]["object"] == f"port:{b['id']}"
    assert held_verdict(cloud, Packet(ip_of(a), ip_of(b), "tcp", 80, a["id"])) == "delivered"


async def test_across_a_router(cloud):
    """Two subnets joined by a router: the hop names the router."""
    net, (s1, s2) = await cloud.network(["10.61.0.0/24", "10.62.0.0/24"])
    router = (await cloud.call("POST", "/v2.0/routers", {"router": {"name": "r"}}))["router"]
    for subnet in (s1, s2):
        await cloud.call(
            "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet}
        )
    a = await cloud.port(net, 0, fixed_ips=[{"subnet_id": s1}])
    b = await cloud.port(net, 2, fixed_ips=[{"subnet_id": s2}])
    await cloud.idle()
    result = await trace(cloud, from_port=a["id"], to=ip_of(b), protocol="icmp")
    assert result["verdict"] == "delivered", result
    route = next(h for h in result["hops"] if h["stage"] == "route")
    assert route["object"] == f"router:{router['id']}"
    assert held_verdict(cloud, Packet(ip_of(a), ip_of(b), "icmp", 0, a["id"])) == "delivered"


async def test_a_security_group_drops_and_allows_by_port(cloud):
    """Only tcp/22 is allowed in: tcp/80 is dropped by the group, tcp/22 delivered."""
    net, _ = await cloud.network(["10.63.0.0/24"])
    only_ssh = await group(
        cloud,
        {"direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
    )
    a = await cloud.port(net, 0)
    b = await cloud.port(net, 1, security_groups=[only_ssh])
    await cloud.idle()
    dropped = await trace(cloud, from_port=a["id"], to=ip_of(b), protocol="tcp", port=80)
    assert dropped["verdict"] == "dropped"
    assert dropped["hops"][-1]["stage"] == "security-group ingress"
    assert dropped["hops"][-1]["object"] == f"security_group:{only_ssh}"
    allowed = await trace(cloud, from_port=a["id"], to=ip_of(b), protocol="tcp", port=22)
    assert allowed["verdict"] == "delivered"
    assert held_verdict(cloud, Packet(ip_of(a), ip_of(b), "tcp", 80, a["id"])) == "dropped"
    assert held_verdict(cloud, Packet(ip_of(a), ip_of(b), "tcp", 22, a["id"])) == "delivered"


async def test_a_network_acl_denies(cloud):
    """An ACL on the destination subnet denying tcp/22 (rule 10) drops what the groups allow."""
    net, (subnet,) = await cloud.network(["10.64.0.0/24"])
    a, b = await cloud.port(net, 0), await cloud.port(net, 1)
    project = a["project_id"]
    acl = (
        await cloud.call(
            "POST",
            f"/project/{project}/network-acls",
            {"network_acl": {"vpc_id": net, "associated_subnets": [subnet]}},
        )
    )["network_acl"]
    for number, action, port in ((10, "deny", 22), (20, "allow", None)):
        rule = {"network_acl_id": acl["id"], "number": number, "action": action}
        for direction in ("ingress", "egress"):
            body = {**rule, "direction": direction, "protocol": "tcp" if port else "all"}
            if port:
                body.update(port_range_min=port, port_range_max=port, number=number)
            else:
                body["number"] = number + (1 if direction == "egress" else 0)
            if port and direction == "egress":
                continue
            await cloud.call(
                "POST", f"/project/{project}/network-acl-rules", {"network_acl_rule": body}
            )
    await cloud.call(
        "POST",
        f"/project/{project}/network-acl-rules",
        {
            "network_acl_rule": {
                "network_acl_id": acl["id"],
                "number": 30,
                "action": "allow",
                "direction": "egress",
                "protocol": "all",
            }
        },
    )
    await cloud.idle()
    denied = await trace(cloud, from_port=a["id"], to=ip_of(b), protocol="tcp", port=22)
    assert denied["verdict"] == "dropped", denied
    assert denied["hops"][-1]["object"] == f"network_acl:{acl['id']}#10"
    allowed = await trace(cloud, from_port=a["id"], to=ip_of(b), protocol="tcp", port=80)
    assert allowed["verdict"] == "delivered", allowed
    assert held_verdict(cloud, Packet(ip_of(a), ip_of(b), "tcp", 22, a["id"])) == "dropped"
    assert held_verdict(cloud, Packet(ip_of(a), ip_of(b), "tcp", 80, a["id"])) == "delivered"


async def _public(cloud: Cloud) -> tuple[str, str]:
    public = (
        await cloud.call(
            "POST", "/v2.0/networks", {"network": {"name": "public", "router:external": True}}
        )
    )["network"]["id"]
    await cloud.call(
        "POST", "/v2.0/subnets", {"subnet": {"network_id": public, "cidr": "203.0.113.0/24"}}
    )
    router = (
        await cloud.call(
            "POST",
            "/v2.0/routers",
            {"router": {"name": "edge", "external_gateway_info": {"network_id": public}}},
        )
    )["router"]
    return public, router["id"]


async def test_a_floating_ip_from_outside_reaches_the_fixed_ip_on_its_host(cloud):
    """From an outside address to a floating IP: DNAT on the port's host, then its group."""
    public, router = await _public(cloud)
    net, (subnet,) = await cloud.network(["10.65.0.0/24"])
    await cloud.call("PUT", f"/v2.0/routers/{router}/add_router_interface", {"subnet_id": subnet})
    web = await group(
        cloud,
        {
            "direction": "ingress",
            "protocol": "tcp",
            "port_range_min": 443,
            "port_range_max": 443,
            "remote_ip_prefix": "0.0.0.0/0",
        },
    )
    b = await cloud.port(net, 2, security_groups=[web])
    fip = (
        await cloud.call(
            "POST",
            "/v2.0/floatingips",
            {"floatingip": {"floating_network_id": public, "port_id": b["id"]}},
        )
    )["floatingip"]
    await cloud.idle()
    address = fip["floating_ip_address"]
    result = await trace(cloud, from_ip="198.51.100.7", to=address, protocol="tcp", port=443)
    assert result["verdict"] == "delivered", result
    dnat = result["hops"][0]
    assert (dnat["stage"], dnat["host"], dnat["object"]) == (
        "dnat",
        "node-2",
        f"floatingip:{fip['id']}",
    )
    assert result["hops"][-1]["object"] == f"port:{b['id']}"
    blocked = await trace(cloud, from_ip="198.51.100.7", to=address, protocol="tcp", port=22)
    assert blocked["verdict"] == "dropped"
    assert held_verdict(cloud, Packet("198.51.100.7", address, "tcp", 443)) == "delivered"


async def test_snat_out_through_the_router_gateway(cloud):
    """A port without a floating IP leaves the VPC with the router gateway's address."""
    _, router = await _public(cloud)
    net, (subnet,) = await cloud.network(["10.66.0.0/24"])
    await cloud.call("PUT", f"/v2.0/routers/{router}/add_router_interface", {"subnet_id": subnet})
    a = await cloud.port(net, 0)
    await cloud.idle()
    gateway = (await cloud.call("GET", f"/v2.0/routers/{router}"))["router"][
        "external_gateway_info"
    ]["external_fixed_ips"][0]["ip_address"]
    result = await trace(cloud, from_port=a["id"], to="8.8.8.8", protocol="udp", port=53)
    assert result["verdict"] == "delivered", result
    snat = result["hops"][-1]
    assert (snat["stage"], snat["object"]) == ("snat", f"router:{router}")
    assert gateway in snat["detail"]
    assert held_verdict(cloud, Packet(ip_of(a), "8.8.8.8", "udp", 53, a["id"])) == "delivered"


async def test_intent_and_hosts_differ_until_the_host_acknowledges(cloud):
    """A rule the destination host has not acknowledged: intent delivers, the hosts drop,
    and the answer shows where; once acknowledged they agree."""
    net, _ = await cloud.network(["10.67.0.0/24"])
    only_ssh = await group(
        cloud,
        {"direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
    )
    a = await cloud.port(net, 0)
    b = await cloud.port(net, 1, security_groups=[only_ssh])
    await cloud.idle()
    target = cloud.pool.agent(cloud.ips[1])
    await target.stop()  # the host stops answering: the new rule cannot be acknowledged
    await cloud.call(
        "POST",
        "/v2.0/security-group-rules",
        {
            "security_group_rule": {
                "security_group_id": only_ssh,
                "direction": "ingress",
                "protocol": "tcp",
                "port_range_min": 80,
                "port_range_max": 80,
            }
        },
    )
    intent = await trace(
        cloud, source="intent", from_port=a["id"], to=ip_of(b), protocol="tcp", port=80
    )
    assert intent["verdict"] == "delivered" and intent["source"] == "intent", intent
    acked = await trace(cloud, from_port=a["id"], to=ip_of(b), protocol="tcp", port=80)
    assert acked["verdict"] == "dropped"
    assert acked["intent"]["verdict"] == "delivered"
    assert acked["differences"]
    assert any((d["acked"] or {}).get("host") == "node-1" for d in acked["differences"]), acked[
        "differences"
    ]


async def test_bad_requests(cloud):
    """Unknown port 404, bad address 400, another project's port 404, as NeutronError."""
    net, _ = await cloud.network(["10.68.0.0/24"])
    a = await cloud.port(net, 0)
    missing = await trace(
        cloud, 404, from_port="8c2c5e3e-0000-4000-8000-000000000000", to="10.68.0.9"
    )
    assert missing["NeutronError"]["type"] == "PortNotFound"
    bad = await trace(cloud, 400, from_port=a["id"], to="10.68.0.999")
    assert bad["NeutronError"]["type"] == "HTTPBadRequest"
    assert await trace(cloud, 400, from_port=a["id"], to="10.68.0.9", protocol="gre")
    assert await trace(cloud, 400, to="10.68.0.9")
    resp = await cloud.client.post(
        "/trace",
        json={"from_port": a["id"], "to": "10.68.0.9"},
        headers={"X-Project-Id": "someone-else", "X-Roles": "member"},
    )
    assert resp.status == 404
    assert (await resp.json())["NeutronError"]["type"] == "PortNotFound"


async def test_the_agents_track_connections(cloud):
    """Stateful groups on the hosts: a reply of an allowed flow passes a group that would
    refuse the same packet as a new flow."""
    net, _ = await cloud.network(["10.69.0.0/24"])
    closed = await group(cloud)  # no ingress rule at all
    open_ssh = await group(
        cloud,
        {"direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
    )
    a = await cloud.port(net, 0, security_groups=[closed])
    b = await cloud.port(net, 1, security_groups=[open_ssh])
    await cloud.idle()
    reply = Packet(ip_of(b), ip_of(a), "tcp", 0, b["id"])
    assert cloud.pool.send(reply).verdict == "dropped"  # a new flow into a closed port
    assert cloud.pool.send(Packet(ip_of(a), ip_of(b), "tcp", 22, a["id"])).verdict == "delivered"
    answered = cloud.pool.send(reply)
    assert answered.verdict == "delivered"
    assert any("reply of an allowed flow" in h.detail for h in answered.hops)
