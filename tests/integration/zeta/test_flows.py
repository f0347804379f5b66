"""Gateways follow networks and ports to Zeta through the outbox (southbound spec §8.2)."""

from __future__ import annotations

from tests.integration.zeta.conftest import (
    bound_port,
    caught_up,
    eventually,
    gateway_of,
    settled,
)


async def test_network_port_lifecycle_reaches_zeta_in_order(zapi, zeta):
    """Create, bind, delete: exactly POST /vpcs, POST /ports, DELETE port, DELETE VPC."""
    await zapi.node("host-1", "192.0.2.11", node_id="node-1")
    network, _subnet = await zapi.lan("10.1.0.0/24", name="n1")
    gateway = await settled(zapi, network["id"])
    assert gateway["type"] == "ZETA"
    assert gateway["zgc_id"] == next(iter(zeta.zgcs))
    assert gateway["port_inband_operation"] == 8300
    assert gateway["destinations"] == [
        {"ip_address": f"10.254.0.{i}", "mac_address": f"aa:bb:cc:00:00:0{i}"} for i in (2, 3, 4)
    ]
    assert gateway["revision_number"] == 2  # created, then what Zeta answered
    assert zeta.calls[0].body == {
        "vpc_id": network["id"],
        "vni": network["provider:segmentation_id"],
    }

    port = await bound_port(zapi, network["id"], "host-1")
    await eventually(lambda: _at_zeta(zeta, port["id"]))
    sent = next(c for c in zeta.calls if c.method == "POST" and c.path == "/ports").body
    assert sent == [
        {
            "port_id": port["id"],
            "vpc_id": network["id"],
            "ips_port": [{"ip": port["fixed_ips"][0]["ip_address"], "vip": ""}],
            "mac_port": port["mac_address"],
            "ip_node": "192.0.2.11",
            "mac_node": "52:54:00:12:34:56",
        }
    ]
    await zapi.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    await zapi.ok("DELETE", f"/v2.0/networks/{network['id']}", status=204)

    async def gone():
        return await gateway_of(zapi, network["id"]) is None

    await eventually(gone)
    assert zeta.writes() == [
        ("POST", "/vpcs"),
        ("POST", "/ports"),
        ("DELETE", f"/ports/{port['id']}"),
        ("DELETE", f"/vpcs/{network['id']}"),
    ]
    assert zeta.vpcs == {} and zeta.ports == {}


async def _at_zeta(zeta, port_id):
    return port_id in zeta.ports


async def _gone(zapi, network_id):
    async def check():
        return await gateway_of(zapi, network_id) is None

    await eventually(check)


async def test_vpc_is_deleted_after_its_ports_even_when_a_port_delete_fails(zapi, zeta):
    """A port DELETE answered 500 (still there) is retried; the VPC's DELETE waits for it."""
    await zapi.node("host-1", "192.0.2.11")
    network, _ = await zapi.lan("10.1.0.0/24")
    ports = [await bound_port(zapi, network["id"], "host-1") for _ in range(3)]
    await settled(zapi, network["id"])
    start = len(zeta.calls)
    zeta.fail_next(1, when=lambda method, path, body: method == "DELETE")
    for port in ports:
        await zapi.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    await zapi.ok("DELETE", f"/v2.0/networks/{network['id']}", status=204)
    await _gone(zapi, network["id"])
    first = ports[0]["id"]
    assert (
        [(c.method, c.path, c.status) for c in zeta.calls[start:]]
        == [
            ("DELETE", f"/ports/{first}", 500),
            ("GET", f"/ports/{first}", 200),  # still there: retry
            ("GET", f"/ports/{first}", 200),  # the retry reads first
            ("DELETE", f"/ports/{first}", 204),
            *(("DELETE", f"/ports/{p['id']}", 204) for p in ports[1:]),
            ("DELETE", f"/vpcs/{network['id']}", 204),
        ]
    )
    assert zeta.vpcs == {} and zeta.ports == {}


async def test_calls_never_sent_are_dropped_when_their_object_goes(zapi, zeta):
    """Port and network deleted while the VPC's create hangs: no POST /ports ever, and
    the VPC (its create attempted) is deleted once Zeta answers."""
    zeta.hang()
    await zapi.node("host-1", "192.0.2.11")
    network, _ = await zapi.lan("10.1.0.0/24")
    await eventually(lambda: _held(zeta))  # the VPC's create is out, its outcome unknown
    port = await bound_port(zapi, network["id"], "host-1")
    await zapi.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    await zapi.ok("DELETE", f"/v2.0/networks/{network['id']}", status=204)
    gateway = await gateway_of(zapi, network["id"])
    assert gateway["status"] == "DELETING"
    zeta.release()
    await _gone(zapi, network["id"])
    assert all(c.path != "/ports" for c in zeta.calls)
    assert zeta.vpcs == {}
    assert zeta.writes()[0] == ("POST", "/vpcs") and zeta.writes()[-1][0] == "DELETE"


async def test_network_created_and_deleted_before_any_call_sends_nothing(make_api, zeta):
    """A VPC create that never went out is superseded by the delete: Zeta hears nothing."""
    from tests.integration.zeta.conftest import FAST

    settings = {**FAST, "zeta.url": zeta.url, "zeta.parallel_vpcs": 1, "zeta.timeout_s": 30.0}
    zapi = await make_api(**settings)
    zeta.hang()  # the first VPC's call holds the only lane slot
    blocker = await zapi.network(name="blocker")
    await eventually(lambda: _held(zeta))
    network = await zapi.network(name="brief")
    await zapi.ok("DELETE", f"/v2.0/networks/{network['id']}", status=204)
    await _gone(zapi, network["id"])
    zeta.release()
    await settled(zapi, blocker["id"])
    assert [c.vpc for c in zeta.calls] == [blocker["id"]]


async def _held(zeta):
    return zeta.held > 0


async def test_host_or_address_change_is_delete_then_create(zapi, zeta):
    """Zeta has no useful PUT for these: a host move or new IP deletes and re-creates."""
    await zapi.node("host-1", "192.0.2.11")
    await zapi.node("host-2", "192.0.2.12", mac_address="52:54:00:00:00:02")
    network, subnet = await zapi.lan("10.1.0.0/24")
    port = await bound_port(zapi, network["id"], "host-1")
    await settled(zapi, network["id"])
    start = len(zeta.calls)
    await zapi.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "host-2"}})
    await settled(zapi, network["id"])
    body = {"port": {"fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "10.1.0.77"}]}}
    await zapi.ok("PUT", f"/v2.0/ports/{port['id']}", body)
    await settled(zapi, network["id"])
    await zapi.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": ""}})
    await settled(zapi, network["id"])
    await zapi.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"name": "renamed"}})
    await settled(zapi, network["id"])
    path = f"/ports/{port['id']}"
    assert zeta.writes()[start:] == [
        ("DELETE", path),
        ("POST", "/ports"),
        ("DELETE", path),
        ("POST", "/ports"),
        ("DELETE", path),
    ]
    posted = [c.body[0] for c in zeta.calls[start:] if c.path == "/ports"]
    assert [(b["ip_node"], b["mac_node"]) for b in posted] == [
        ("192.0.2.12", "52:54:00:00:00:02"),
        ("192.0.2.12", "52:54:00:00:00:02"),
    ]
    assert posted[1]["ips_port"] == [{"ip": "10.1.0.77", "vip": ""}]
    assert zeta.ports == {}


async def test_node_address_change_moves_its_ports_at_zeta(zapi, zeta):
    """A node's new data-path IP re-registers the ports bound to it."""
    node = await zapi.node("host-1", "192.0.2.11", node_id="node-1")
    network, _ = await zapi.lan("10.1.0.0/24")
    port = await bound_port(zapi, network["id"], "host-1")
    await settled(zapi, network["id"])
    start = len(zeta.calls)
    body = {"host_info": {"data-path-ip": "198.51.100.7"}}
    await zapi.ok("PUT", f"/nodes/{node['node_id']}", body)
    await eventually(lambda: _posted_again(zeta, start))
    await settled(zapi, network["id"])
    assert zeta.writes()[start:] == [("DELETE", f"/ports/{port['id']}"), ("POST", "/ports")]
    assert zeta.calls[-1].body[0]["ip_node"] == "198.51.100.7"


async def _posted_again(zeta, start):
    return any(c.path == "/ports" and c.status == 201 for c in zeta.calls[start:])


async def test_ports_queued_behind_the_vpc_go_in_batches(make_api, zeta):
    """Ports bound while the VPC is pending are sent port_batch at a time, after it."""
    from tests.integration.zeta.conftest import FAST

    zapi = await make_api(**FAST, **{"zeta.url": zeta.url, "zeta.port_batch": 2})
    zeta.hang()
    await zapi.node("host-1", "192.0.2.11")
    network, _ = await zapi.lan("10.1.0.0/24")
    items = [{"network_id": network["id"], "binding:host_id": "host-1"} for _ in range(5)]
    ports = (await zapi.ok("POST", "/v2.0/ports", {"ports": items}, 201))["ports"]
    await caught_up(zapi)  # all five queued behind the held VPC create
    zeta.release()
    await settled(zapi, network["id"])
    posts = [c for c in zeta.calls if c.path == "/ports" and c.status == 201]
    assert [len(c.body) for c in posts] == [2, 2, 1]
    assert sorted(zeta.ports) == sorted(p["id"] for p in ports)
    first_port_call = next(i for i, c in enumerate(zeta.calls) if c.path == "/ports")
    assert all(c.path != "/ports" for c in zeta.calls[:first_port_call])
    assert any(c.status == 201 and c.path == "/vpcs" for c in zeta.calls[:first_port_call])


async def test_unbound_ipv6_only_and_non_vxlan_are_not_registered(zapi, zeta):
    """Zeta knows VXLAN VPCs and bound ports with an IPv4 address, nothing else."""
    await zapi.node("host-1", "192.0.2.11")
    network, _ = await zapi.lan("10.1.0.0/24")
    await zapi.port(network["id"])  # unbound
    await bound_port(zapi, network["id"], "nowhere")  # no such node: binding_failed
    v6 = await zapi.network(name="v6")
    await zapi.subnet(v6["id"], "2001:db8::/64", ip_version=6)
    await bound_port(zapi, v6["id"], "host-1")
    vlan = await zapi.network(**{"provider:network_type": "vlan"})
    await settled(zapi, network["id"])
    await settled(zapi, v6["id"])
    assert zeta.ports == {}
    assert await gateway_of(zapi, vlan["id"]) is None
    assert vlan["id"] not in zeta.vpcs
