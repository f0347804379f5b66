"""Gateways follow networks and ports to Zeta through the outbox (southbound spec §8.2)."""

from __future__ import annotations

from tests.integration.zeta.conftest import bound_port, eventually, gateway_of, settled


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
