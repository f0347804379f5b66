"""QoS policies and trunk subports on the hosts: REST in, real agents' tables read back.

A host of type alcor holds the QoS policies its ports use (a port's own, else its
network's for ports not owned by the network) and programs a trunk's subports as VLANs of
the parent port, on the parent's host. Each scenario ends with a clean audit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.api.web import make_web_app
from alcor.app import build
from tests.integration.test_southbound_e2e import FAST_RETRIES as FAST
from tests.integration.test_southbound_e2e import Cloud, _start_cloud

POLICIES = "/v2.0/qos/policies"
TRUNKS = "/v2.0/trunks"


@pytest.fixture
async def cloud(make_config: Any) -> AsyncIterator[Cloud]:
    """Three alcor hosts, fast retries."""
    async for item in _start_cloud(make_config, 3, "127.2.12.1", **FAST):
        yield item


async def _policy(cloud: Cloud, name: str, **rules: dict[str, Any]) -> str:
    """Create a policy with one rule per given type; return its id."""
    policy = (await cloud.call("POST", POLICIES, {"policy": {"name": name}}))["policy"]
    for kind, attrs in rules.items():
        await cloud.call("POST", f"{POLICIES}/{policy['id']}/{kind}_rules", {f"{kind}_rule": attrs})
    return str(policy["id"])


async def _revision(cloud: Cloud, policy_id: str) -> int:
    return int((await cloud.call("GET", f"{POLICIES}/{policy_id}"))["policy"]["revision_number"])


async def _port(cloud: Cloud, port_id: str) -> dict[str, Any]:
    return (await cloud.call("GET", f"/v2.0/ports/{port_id}"))["port"]  # type: ignore[no-any-return]


async def _assert_clean(cloud: Cloud) -> None:
    await cloud.idle()
    for host in range(len(cloud.ips)):
        audit = (await cloud.call("GET", f"/nodes/node-{host}/southbound/audit"))["audit"]
        assert audit["clean"], audit


def _rules(state: dict[str, Any], policy_id: str) -> dict[str, dict[str, Any]]:
    """The rules an agent holds for a policy, by type."""
    return {r["type"]: r for r in state["qos_policies"][policy_id].get("rules", [])}


async def test_policies_reach_the_hosts_of_the_ports_that_use_them(cloud):
    """Own policy, inherited network policy, a network-owned port that inherits nothing; a
    rule change arrives at a higher revision; detaching falls back to the network's policy
    and detaching that deletes it from the hosts."""
    gold = await _policy(
        cloud,
        "gold",
        bandwidth_limit={"max_kbps": 1000, "max_burst_kbps": 100},
        dscp_marking={"dscp_mark": 26},
    )
    bronze = await _policy(cloud, "bronze", bandwidth_limit={"max_kbps": 500})
    net, _ = await cloud.network(["10.70.0.0/24"])
    await cloud.call("PUT", f"/v2.0/networks/{net}", {"network": {"qos_policy_id": bronze}})
    own = await cloud.port(net, 0, qos_policy_id=gold)
    inherits = await cloud.port(net, 1)
    service = await cloud.port(net, 2, device_owner="network:dhcp")
    await cloud.idle()

    host0, host1, host2 = cloud.state(0), cloud.state(1), cloud.state(2)
    assert set(host0["qos_policies"]) == {gold}
    assert set(host1["qos_policies"]) == {bronze}
    assert host2["qos_policies"] == {}
    held = _rules(host0, gold)
    assert (held["bandwidth_limit"]["max_kbps"], held["bandwidth_limit"]["max_burst_kbps"]) == (
        1000,
        100,
    )
    assert held["bandwidth_limit"]["direction"] == "egress"
    assert held["dscp_marking"]["dscp_mark"] == 26
    assert _rules(host1, bronze)["bandwidth_limit"]["max_kbps"] == 500
    assert host0["applied"]["QOS_POLICY"][gold] == await _revision(cloud, gold)
    assert host0["port_qos"][own["id"]] == {"qos_policy_id": gold, "source": "port", "held": "yes"}
    assert host1["port_qos"][inherits["id"]] == {
        "qos_policy_id": bronze,
        "source": "network",
        "held": "yes",
    }
    assert host1["vpcs"][net]["qos_policy_id"] == bronze
    assert service["id"] in host2["ports"] and host2["port_qos"] == {}
    await _assert_clean(cloud)

    # A rule change bumps the policy: its hosts get the higher revision.
    before = await _revision(cloud, gold)
    rule_id = held["bandwidth_limit"]["id"]
    await cloud.call(
        "PUT",
        f"{POLICIES}/{gold}/bandwidth_limit_rules/{rule_id}",
        {"bandwidth_limit_rule": {"max_kbps": 2000}},
    )
    after = await _revision(cloud, gold)
    assert after > before
    await cloud.idle()
    assert cloud.state(0)["applied"]["QOS_POLICY"][gold] == after
    assert _rules(cloud.state(0), gold)["bandwidth_limit"]["max_kbps"] == 2000
    # Deleting a rule bumps it too.
    dscp = _rules(cloud.state(0), gold)["dscp_marking"]["id"]
    await cloud.call("DELETE", f"{POLICIES}/{gold}/dscp_marking_rules/{dscp}")
    await cloud.idle()
    assert cloud.state(0)["applied"]["QOS_POLICY"][gold] == await _revision(cloud, gold) > after
    assert set(_rules(cloud.state(0), gold)) == {"bandwidth_limit"}
    await _assert_clean(cloud)

    # Detached from the port: host 0 drops gold and holds the network's policy instead.
    await cloud.call("PUT", f"/v2.0/ports/{own['id']}", {"port": {"qos_policy_id": None}})
    await cloud.idle()
    assert set(cloud.state(0)["qos_policies"]) == {bronze}
    assert cloud.state(0)["port_qos"][own["id"]]["source"] == "network"
    # Detached from the network: no host holds a policy any more.
    await cloud.call("PUT", f"/v2.0/networks/{net}", {"network": {"qos_policy_id": None}})
    await cloud.idle()
    for host in range(3):
        assert cloud.state(host)["qos_policies"] == {}
        assert cloud.state(host)["port_qos"] == {}
    assert cloud.state(1)["vpcs"][net].get("qos_policy_id", "") == ""
    await _assert_clean(cloud)
    # Unused now, the policies can go (they were on no host any more).
    await cloud.call("DELETE", f"{POLICIES}/{gold}")
    await _assert_clean(cloud)


async def test_a_policy_follows_its_port_to_another_host(cloud):
    """Rebinding a port moves its policy: the old host gets the DELETE, the new one the
    policy; a host keeps a policy while another of its ports still uses it."""
    gold = await _policy(cloud, "gold", bandwidth_limit={"max_kbps": 1000})
    net, _ = await cloud.network(["10.71.0.0/24"])
    moving = await cloud.port(net, 0, qos_policy_id=gold)
    staying = await cloud.port(net, 1, qos_policy_id=gold)
    await cloud.idle()
    assert gold in cloud.state(0)["qos_policies"] and gold in cloud.state(1)["qos_policies"]
    await cloud.call("PUT", f"/v2.0/ports/{moving['id']}", {"port": {"binding:host_id": "host-2"}})
    await cloud.idle()
    assert cloud.state(0)["qos_policies"] == {}
    assert set(cloud.state(1)["qos_policies"]) == {gold}
    assert set(cloud.state(2)["qos_policies"]) == {gold}
    await cloud.call("DELETE", f"/v2.0/ports/{staying['id']}")
    await cloud.idle()
    assert cloud.state(1)["qos_policies"] == {}
    await _assert_clean(cloud)


def _vlan(state: dict[str, Any], port_id: str) -> tuple[str, str, int]:
    trunk = state["ports"][port_id]["trunk"]
    return trunk["parent_port_id"], trunk["segmentation_type"], trunk["segmentation_id"]


def _sub(port_id: str, vlan: int) -> dict[str, Any]:
    return {"port_id": port_id, "segmentation_type": "vlan", "segmentation_id": vlan}


async def test_subports_are_programmed_on_their_parents_host(cloud):
    """Subports are bound with their bound parent and carry their VLAN to its host; added
    ones move there (even from another host), removed ones leave, a rebound parent takes
    them along, an unbound one unbinds them, a deleted trunk releases them."""
    net, _ = await cloud.network(["10.72.0.0/24"])
    parent = await cloud.port(net, 0)
    first = await cloud.port(net, None)
    elsewhere = await cloud.port(net, 1)  # bound to another host before it joins
    trunk = (
        await cloud.call(
            "POST",
            TRUNKS,
            {"trunk": {"port_id": parent["id"], "sub_ports": [_sub(first["id"], 101)]}},
        )
    )["trunk"]
    shown = await _port(cloud, first["id"])
    assert (shown["device_owner"], shown["device_id"], shown["binding:host_id"]) == (
        "trunk:subport",
        trunk["id"],
        "host-0",
    )
    assert (
        shown["binding:vif_type"] == "ovs" and shown["revision_number"] > first["revision_number"]
    )
    await cloud.idle()
    assert _vlan(cloud.state(0), first["id"]) == (parent["id"], "vlan", 101)
    assert cloud.state(0)["trunks"][parent["id"]] == [_sub(first["id"], 101)]
    assert cloud.state(0)["ports"][parent["id"]]["trunk"] is None
    assert await cloud.status(first["id"]) == "ACTIVE"

    await cloud.call(
        "PUT", f"{TRUNKS}/{trunk['id']}/add_subports", {"sub_ports": [_sub(elsewhere["id"], 102)]}
    )
    await cloud.idle()
    assert _vlan(cloud.state(0), elsewhere["id"]) == (parent["id"], "vlan", 102)
    assert elsewhere["id"] not in cloud.state(1)["ports"]
    assert (await _port(cloud, elsewhere["id"]))["binding:host_id"] == "host-0"
    await _assert_clean(cloud)

    await cloud.call(
        "PUT", f"{TRUNKS}/{trunk['id']}/remove_subports", {"sub_ports": [{"port_id": first["id"]}]}
    )
    await cloud.idle()
    assert first["id"] not in cloud.state(0)["ports"]
    released = await _port(cloud, first["id"])
    assert (released["device_owner"], released["device_id"], released["binding:host_id"]) == (
        "",
        "",
        "",
    )
    assert cloud.state(0)["trunks"] == {parent["id"]: [_sub(elsewhere["id"], 102)]}

    # The parent moves: its subport follows with its VLAN.
    await cloud.call("PUT", f"/v2.0/ports/{parent['id']}", {"port": {"binding:host_id": "host-2"}})
    await cloud.idle()
    assert elsewhere["id"] not in cloud.state(0)["ports"]
    assert _vlan(cloud.state(2), elsewhere["id"]) == (parent["id"], "vlan", 102)
    assert (await _port(cloud, elsewhere["id"]))["binding:host_id"] == "host-2"
    await _assert_clean(cloud)

    # The parent is unbound: so is the subport; bound again, both come back.
    await cloud.call("PUT", f"/v2.0/ports/{parent['id']}", {"port": {"binding:host_id": ""}})
    await cloud.idle()
    assert all(elsewhere["id"] not in cloud.state(h)["ports"] for h in range(3))
    unbound = await _port(cloud, elsewhere["id"])
    assert (unbound["binding:host_id"], unbound["binding:vif_type"]) == ("", "unbound")
    await cloud.call("PUT", f"/v2.0/ports/{parent['id']}", {"port": {"binding:host_id": "host-1"}})
    await cloud.idle()
    assert _vlan(cloud.state(1), elsewhere["id"]) == (parent["id"], "vlan", 102)

    # Deleting the trunk releases its subport (it stays bound nowhere).
    await cloud.call("DELETE", f"{TRUNKS}/{trunk['id']}")
    await cloud.idle()
    gone = await _port(cloud, elsewhere["id"])
    assert (gone["device_owner"], gone["device_id"], gone["binding:host_id"]) == ("", "", "")
    assert all(elsewhere["id"] not in cloud.state(h)["ports"] for h in range(3))
    assert cloud.state(1)["trunks"] == {}
    await _assert_clean(cloud)


async def test_subport_refusals_change_nothing(cloud):
    """A subport cannot be bound or re-owned apart from its trunk (409), another trunk's
    subport cannot join (409), a bad VLAN is 400; none of it moves anything on the hosts."""
    net, _ = await cloud.network(["10.73.0.0/24"])
    parent, other_parent = await cloud.port(net, 0), await cloud.port(net, 1)
    sub, spare = await cloud.port(net, None), await cloud.port(net, None)
    trunk = (
        await cloud.call(
            "POST", TRUNKS, {"trunk": {"port_id": parent["id"], "sub_ports": [_sub(sub["id"], 7)]}}
        )
    )["trunk"]
    other = (await cloud.call("POST", TRUNKS, {"trunk": {"port_id": other_parent["id"]}}))["trunk"]
    await cloud.idle()
    before = await _port(cloud, sub["id"])
    for change in ({"binding:host_id": "host-1"}, {"device_owner": "compute:nova"}):
        refused = await cloud.call("PUT", f"/v2.0/ports/{sub['id']}", {"port": change}, status=409)
        assert refused["NeutronError"]["type"] == "PortInUseAsSubPort"
    refused = await cloud.call(
        "PUT",
        f"{TRUNKS}/{other['id']}/add_subports",
        {"sub_ports": [_sub(sub["id"], 8)]},
        status=409,
    )
    assert refused["NeutronError"]["type"] == "TrunkPortInUse"
    await cloud.call(
        "PUT",
        f"{TRUNKS}/{trunk['id']}/add_subports",
        {"sub_ports": [_sub(spare["id"], 5000)]},
        status=400,
    )
    assert await _port(cloud, sub["id"]) == before
    assert (await _port(cloud, spare["id"]))["device_owner"] == ""
    await cloud.idle()
    assert _vlan(cloud.state(0), sub["id"]) == (parent["id"], "vlan", 7)
    assert sub["id"] not in cloud.state(1)["ports"] and spare["id"] not in cloud.state(0)["ports"]
    await _assert_clean(cloud)


async def test_policies_and_subports_survive_a_controller_restart(cloud, make_config):
    """A new controller on the same store reloads policies and trunks: the hosts hold what
    it wants (clean audits), and a later rule change still reaches the policy's host."""
    gold = await _policy(cloud, "gold", bandwidth_limit={"max_kbps": 1000})
    net, _ = await cloud.network(["10.74.0.0/24"])
    parent = await cloud.port(net, 0, qos_policy_id=gold)
    sub = await cloud.port(net, None)
    await cloud.call(
        "POST", TRUNKS, {"trunk": {"port_id": parent["id"], "sub_ports": [_sub(sub["id"], 9)]}}
    )
    await _assert_clean(cloud)
    await cloud.client.close()
    alcor = build(make_config(**FAST))
    async with TestClient(TestServer(make_web_app(alcor))) as client:
        again = Cloud(client, alcor, cloud.pool, cloud.ips)
        assert set(alcor.southbound.topo.qos_policies) == {gold}
        assert alcor.southbound.topo.subports[sub["id"]].segmentation_id == 9
        await _assert_clean(again)
        rule = _rules(cloud.state(0), gold)["bandwidth_limit"]["id"]
        await again.call(
            "PUT",
            f"{POLICIES}/{gold}/bandwidth_limit_rules/{rule}",
            {"bandwidth_limit_rule": {"max_kbps": 3000}},
        )
        await again.idle()
        assert _rules(cloud.state(0), gold)["bandwidth_limit"]["max_kbps"] == 3000
        assert _vlan(cloud.state(0), sub["id"]) == (parent["id"], "vlan", 9)
        await _assert_clean(again)
