"""Floating IP port forwardings (floating-ip-port-forwarding and its companions)."""

from __future__ import annotations

from typing import Any

from tests.integration.api import Api


async def _setup(p1: Api, public: Any) -> tuple[dict, dict, dict]:
    """A routed network with two ports and a floating IP: (fip, port1, port2)."""
    net, subnet = await p1.lan("10.0.0.0/24")
    router = await p1.router(external_gateway_info={"network_id": public[0]["id"]})
    await p1.add_interface(router["id"], subnet_id=subnet["id"])
    fip = await p1.fip(public[0]["id"])
    return fip, await p1.port(net["id"]), await p1.port(net["id"])


def _pf(port: dict, internal: int, external: int, **attrs: Any) -> dict:
    body = {
        "internal_port_id": port["id"],
        "internal_ip_address": port["fixed_ips"][0]["ip_address"],
        "internal_port": internal,
        "external_port": external,
        "protocol": "tcp",
        **attrs,
    }
    return {"port_forwarding": body}


async def test_port_forwarding_lifecycle(p1, public):
    """A forwarding is created, listed, shown in its floating IP, updated and deleted; the
    floating IP cannot be deleted or associated while it forwards ports (409)."""
    fip, port, _ = await _setup(p1, public)
    path = f"/v2.0/floatingips/{fip['id']}/port_forwardings"
    pf = (await p1.ok("POST", path, _pf(port, 22, 2222), 201))["port_forwarding"]
    assert (pf["internal_port"], pf["external_port"], pf["external_port_range"]) == (
        22,
        2222,
        "2222:2222",
    )
    assert (await p1.get(path))["port_forwardings"] == [pf]
    shown = (await p1.get(f"/v2.0/floatingips/{fip['id']}"))["floatingip"]["port_forwardings"]
    assert shown == [
        {
            "id": pf["id"],
            "internal_port_id": port["id"],
            "protocol": "tcp",
            "internal_ip_address": pf["internal_ip_address"],
            "internal_port": 22,
            "external_port": 2222,
        }
    ]
    updated = await p1.ok("PUT", f"{path}/{pf['id']}", {"port_forwarding": {"internal_port": 23}})
    assert updated["port_forwarding"]["internal_port"] == 23
    await p1.fails(
        "DELETE", f"/v2.0/floatingips/{fip['id']}", status=409, error="FipInUseByPortForwarding"
    )
    await p1.fails(
        "PUT",
        f"/v2.0/floatingips/{fip['id']}",
        {"floatingip": {"port_id": port["id"]}},
        status=409,
        error="FipInUseByPortForwarding",
    )
    await p1.ok("DELETE", f"{path}/{pf['id']}", status=204)
    await p1.fails("GET", f"{path}/{pf['id']}", status=404, error="PortForwardingNotFound")
    await p1.ok("DELETE", f"/v2.0/floatingips/{fip['id']}", status=204)


async def test_port_forwarding_refusals(p1, public):
    """Same external port or same internal endpoint twice is 400; ports out of range are
    400; an associated floating IP, or a port with its own floating IP, is 409; port ranges
    of the same size map one to one."""
    fip, port1, port2 = await _setup(p1, public)
    path = f"/v2.0/floatingips/{fip['id']}/port_forwardings"
    await p1.ok("POST", path, _pf(port1, 1111, 2222), 201)
    for body in (_pf(port2, 3333, 2222), _pf(port1, 1111, 5555), _pf(port1, 1, 70000)):
        assert (await p1.call("POST", path, body)).status == 400
    ranged = _pf(port2, None, None, internal_port_range="100:110", external_port_range="3100:3110")
    for key in ("internal_port", "external_port"):
        del ranged["port_forwarding"][key]
    created = (await p1.ok("POST", path, ranged, 201))["port_forwarding"]
    assert (created["external_port"], created["external_port_range"]) == (None, "3100:3110")
    used = await p1.fip(public[0]["id"], port_id=port2["id"])
    await p1.fails(
        "POST",
        f"/v2.0/floatingips/{used['id']}/port_forwardings",
        _pf(port1, 1, 2),
        status=409,
        error="Conflict",
    )
    other = await p1.fip(public[0]["id"])
    await p1.fails(
        "POST",
        f"/v2.0/floatingips/{other['id']}/port_forwardings",
        _pf(port2, 1, 2),
        status=409,
        error="Conflict",
    )
