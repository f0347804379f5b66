"""Security group rules naming an address group, as the hosts hold and enforce them.

A rule with remote_address_group_id reaches the hosts as one rule per address of its
ethertype; editing the group's addresses raises the revision of every security group that
uses it, so the hosts holding those groups get the new rules (and refuse nothing as stale).
Checked against the agents' real tables, their own evaluator, and the drift audit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from alcor.trace.model import Packet
from tests.integration.test_southbound_e2e import FAST_RETRIES, Cloud, _start_cloud
from tests.integration.test_trace import group, held_verdict, ip_of, trace


@pytest.fixture
async def cloud(make_config: Any) -> AsyncIterator[Cloud]:
    """Three hosts, fast retries."""
    async for item in _start_cloud(
        make_config,
        3,
        "127.2.6.1",
        **FAST_RETRIES,
    ):
        yield item


async def address_group(cloud: Cloud, *addresses: str) -> str:
    body = {"address_group": {"name": "ag", "addresses": list(addresses)}}
    return str((await cloud.call("POST", "/v2.0/address-groups", body))["address_group"]["id"])


async def edit(cloud: Cloud, ag_id: str, action: str, *addresses: str) -> None:
    path = f"/v2.0/address-groups/{ag_id}/{action}"
    await cloud.call("PUT", path, {"addresses": list(addresses)})


def host_prefixes(cloud: Cloud, host: int, sg_id: str) -> set[str]:
    """The remote prefixes of the ingress TCP rules host `host` holds for the group."""
    rules = cloud.state(host)["sg_rules"].get(sg_id, [])
    return {
        r["remote_ip_prefix"]
        for r in rules
        if r.get("direction") == "INGRESS" and r.get("remote_ip_prefix")
    }


async def audit_clean(cloud: Cloud, hosts: int = 3) -> None:
    for i in range(hosts):
        result = (await cloud.call("GET", f"/nodes/node-{i}/southbound/audit"))["audit"]
        assert result["clean"], result


async def test_an_address_group_rule_admits_its_addresses_only(cloud):
    """Ingress tcp/22 from an address group holding a's address: a gets in, c does not;
    adding c's address lets c in, removing a's shuts a out; every host agrees."""
    net, _ = await cloud.network(["10.81.0.0/24"])
    a, c = await cloud.port(net, 0), await cloud.port(net, 2)
    ag = await address_group(cloud, f"{ip_of(a)}/32", "2001:db8::/64")
    rule = {
        "direction": "ingress",
        "protocol": "tcp",
        "port_range_min": 22,
        "port_range_max": 22,
        "remote_address_group_id": ag,
    }
    sg = await group(cloud, rule)
    b = await cloud.port(net, 1, security_groups=[sg])
    await cloud.idle()
    # The IPv6 address does not become an IPv4 rule.
    assert host_prefixes(cloud, 1, sg) == {f"{ip_of(a)}/32"}
    revision = cloud.state(1)["security_groups"][sg]["revision_number"]

    def ssh(src: dict[str, Any]) -> Packet:
        return Packet(ip_of(src), ip_of(b), "tcp", 22, src["id"])

    assert held_verdict(cloud, ssh(a)) == "delivered"
    assert held_verdict(cloud, ssh(c)) == "dropped"
    result = await trace(cloud, from_port=c["id"], to=ip_of(b), protocol="tcp", port=22)
    assert result["verdict"] == "dropped" and result["differences"] == []

    await edit(cloud, ag, "add_addresses", f"{ip_of(c)}/32")
    await cloud.idle()
    assert host_prefixes(cloud, 1, sg) == {f"{ip_of(a)}/32", f"{ip_of(c)}/32"}
    assert cloud.state(1)["security_groups"][sg]["revision_number"] > revision
    assert held_verdict(cloud, ssh(c)) == "delivered"

    await edit(cloud, ag, "remove_addresses", f"{ip_of(a)}/32")
    await cloud.idle()
    assert host_prefixes(cloud, 1, sg) == {f"{ip_of(c)}/32"}
    assert held_verdict(cloud, ssh(a)) == "dropped"
    assert held_verdict(cloud, ssh(c)) == "delivered"
    await audit_clean(cloud)


async def test_an_empty_address_group_matches_nothing(cloud):
    """A rule naming an empty group admits no one (it is not an "any remote" rule)."""
    net, _ = await cloud.network(["10.82.0.0/24"])
    a = await cloud.port(net, 0)
    ag = await address_group(cloud)
    sg = await group(cloud, {"direction": "ingress", "remote_address_group_id": ag})
    b = await cloud.port(net, 1, security_groups=[sg])
    await cloud.idle()
    assert host_prefixes(cloud, 1, sg) == set()
    assert held_verdict(cloud, Packet(ip_of(a), ip_of(b), "tcp", 80, a["id"])) == "dropped"
    await edit(cloud, ag, "add_addresses", "10.82.0.0/24")
    await cloud.idle()
    assert host_prefixes(cloud, 1, sg) == {"10.82.0.0/24"}
    assert held_verdict(cloud, Packet(ip_of(a), ip_of(b), "tcp", 80, a["id"])) == "delivered"
    await audit_clean(cloud)


async def test_editing_an_address_group_bumps_the_groups_that_use_it(cloud):
    """The API shows the new revision of each security group whose rules name the address
    group, and of no other group."""
    ag = await address_group(cloud, "10.83.0.0/24")
    users = [await group(cloud, {"direction": "ingress", "remote_address_group_id": ag})]
    other = await group(cloud, {"direction": "ingress", "protocol": "tcp"})

    async def revision(sg: str) -> int:
        body = await cloud.call("GET", f"/v2.0/security-groups/{sg}")
        return int(body["security_group"]["revision_number"])

    before = {sg: await revision(sg) for sg in [*users, other]}
    await edit(cloud, ag, "add_addresses", "10.84.0.0/24")
    assert await revision(users[0]) == before[users[0]] + 1
    assert await revision(other) == before[other]
    # Removing an address the group lacks is 404 and bumps nothing.
    await cloud.call(
        "PUT",
        f"/v2.0/address-groups/{ag}/remove_addresses",
        {"addresses": ["10.99.0.0/24"]},
        status=404,
    )
    assert await revision(users[0]) == before[users[0]] + 1
