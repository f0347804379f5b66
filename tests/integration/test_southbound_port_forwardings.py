"""Floating IP port forwardings reach the host of their internal port (its DNAT table).

Real agents over gRPC: the forwarding is held by the internal port's host and by no other,
an update reaches it at a higher revision, moving or deleting it takes it away, and the
drift audit finds every host holding exactly what it should.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.api.web import make_web_app
from alcor.app import build
from alcor.trace.model import Packet
from tests.integration.test_southbound_e2e import FAST_RETRIES, Cloud, _start_cloud
from tests.integration.test_trace import _public, group, held_verdict, ip_of, trace


@pytest.fixture
async def cloud(make_config: Any) -> AsyncIterator[Cloud]:
    """Three hosts, fast retries."""
    async for item in _start_cloud(
        make_config,
        3,
        "127.2.7.1",
        **FAST_RETRIES,
    ):
        yield item


async def _setup(cloud: Cloud) -> tuple[dict[str, Any], str, str]:
    """A floating IP without a port, and a network behind the router to the public one."""
    public, router = await _public(cloud)
    net, (subnet,) = await cloud.network(["10.91.0.0/24"])
    await cloud.call("PUT", f"/v2.0/routers/{router}/add_router_interface", {"subnet_id": subnet})
    fip = (
        await cloud.call(
            "POST", "/v2.0/floatingips", {"floatingip": {"floating_network_id": public}}
        )
    )["floatingip"]
    return fip, net, router


def forwardings(cloud: Cloud, host: int) -> dict[str, Any]:
    return dict(cloud.state(host)["port_forwardings"])


async def forward(cloud: Cloud, fip_id: str, path: str = "", method: str = "POST", **body: Any):
    url = f"/v2.0/floatingips/{fip_id}/port_forwardings{path}"
    reply = await cloud.call(method, url, {"port_forwarding": body})
    return reply["port_forwarding"] if reply else None


async def audit_clean(cloud: Cloud) -> None:
    for i in range(3):
        result = (await cloud.call("GET", f"/nodes/node-{i}/southbound/audit"))["audit"]
        assert result["clean"], result


async def test_a_forwarding_is_held_by_its_internal_ports_host_only(cloud):
    """Create, update, re-target and delete: the DNAT entry follows the internal port."""
    fip, net, router = await _setup(cloud)
    web = await cloud.port(net, 1)
    other = await cloud.port(net, 2)
    pf = await forward(
        cloud,
        fip["id"],
        protocol="tcp",
        internal_port_id=web["id"],
        internal_port=8080,
        external_port=80,
    )
    assert "sb_revision" not in pf  # internal: Neutron shows no revision here
    await cloud.idle()
    held = forwardings(cloud, 1)[pf["id"]]
    assert held["floating_ip_address"] == fip["floating_ip_address"]
    assert held["internal_ip_address"] == ip_of(web)
    assert (held["protocol"], held["external_port_min"], held["external_port_max"]) == (
        "tcp",
        80,
        80,
    )
    assert (held["internal_port_min"], held["internal_port_max"]) == (8080, 8080)
    assert held["router_id"] == router
    assert pf["id"] not in forwardings(cloud, 0) and pf["id"] not in forwardings(cloud, 2)
    first = held["revision_number"]

    await forward(cloud, fip["id"], f"/{pf['id']}", "PUT", internal_port=8443)
    await cloud.idle()
    held = forwardings(cloud, 1)[pf["id"]]
    assert held["internal_port_min"] == 8443 and held["revision_number"] > first

    # Re-targeted to a port on another host: it leaves host 1 and appears on host 2.
    await forward(
        cloud,
        fip["id"],
        f"/{pf['id']}",
        "PUT",
        internal_port_id=other["id"],
        internal_ip_address=ip_of(other),
    )
    await cloud.idle()
    assert pf["id"] not in forwardings(cloud, 1)
    assert forwardings(cloud, 2)[pf["id"]]["internal_ip_address"] == ip_of(other)
    await audit_clean(cloud)

    await cloud.call(
        "DELETE", f"/v2.0/floatingips/{fip['id']}/port_forwardings/{pf['id']}", status=204
    )
    await cloud.idle()
    assert all(pf["id"] not in forwardings(cloud, h) for h in range(3))
    await audit_clean(cloud)


async def test_a_range_forwarding_and_a_moving_internal_port(cloud):
    """A port range maps onto an equal range; when the internal port is rebound to another
    host, the forwarding moves with it."""
    fip, net, _ = await _setup(cloud)
    port = await cloud.port(net, 0)
    pf = await forward(
        cloud,
        fip["id"],
        protocol="udp",
        internal_port_id=port["id"],
        internal_port_range="5000:5009",
        external_port_range="6000:6009",
    )
    await cloud.idle()
    held = forwardings(cloud, 0)[pf["id"]]
    assert (held["external_port_min"], held["external_port_max"]) == (6000, 6009)
    assert (held["internal_port_min"], held["internal_port_max"]) == (5000, 5009)
    await cloud.call("PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "host-2"}})
    await cloud.idle()
    assert pf["id"] not in forwardings(cloud, 0)
    assert forwardings(cloud, 2)[pf["id"]]["protocol"] == "udp"
    await audit_clean(cloud)


async def test_forwardings_are_loaded_after_a_controller_restart(make_config):
    """A restarted controller loads the forwardings from the store into its picture, at
    their stored revision (no forwarding event needed)."""
    config = make_config(**FAST_RETRIES)
    async for cloud in _start_cloud(lambda **_: config, 3, "127.2.8.1"):
        fip, net, _ = await _setup(cloud)
        port = await cloud.port(net, 0)
        pf = await forward(
            cloud,
            fip["id"],
            protocol="tcp",
            internal_port_id=port["id"],
            internal_port=22,
            external_port=2222,
        )
        await forward(cloud, fip["id"], f"/{pf['id']}", "PUT", external_port=2223)
        await cloud.idle()
        held = forwardings(cloud, 0)[pf["id"]]
    restarted = build(config)
    async with TestClient(TestServer(make_web_app(restarted))):
        # The picture is loaded at start. (No wait for idleness: a host whose cursor is
        # behind the change record, as after the last port status write raced the stop,
        # gets its neighbors re-sent, to agents that are gone here.)
        rec = restarted.southbound.topo.pfs[pf["id"]]
        assert (rec.external, rec.internal) == ((2223, 2223), (22, 22))
        assert rec.revision == held["revision_number"] == 2


async def test_trace_follows_a_forwarding_to_its_internal_port(cloud):
    """From outside to the floating IP's forwarded port: DNAT on the internal port's host to
    the internal port (its security group judges the translated port), as the intent, the
    acknowledged tables and the agents' own tables all say."""
    fip, net, _ = await _setup(cloud)
    only_8080 = await group(
        cloud,
        {
            "direction": "ingress",
            "protocol": "tcp",
            "port_range_min": 8080,
            "port_range_max": 8080,
            "remote_ip_prefix": "0.0.0.0/0",
        },
    )
    web = await cloud.port(net, 1, security_groups=[only_8080])
    pf = await forward(
        cloud,
        fip["id"],
        protocol="tcp",
        internal_port_id=web["id"],
        internal_port_range="8080:8089",
        external_port_range="80:89",
    )
    await cloud.idle()
    address = fip["floating_ip_address"]
    result = await trace(cloud, from_ip="198.51.100.7", to=address, protocol="tcp", port=80)
    assert result["verdict"] == "delivered", result
    assert result["differences"] == []
    dnat = result["hops"][0]
    assert (dnat["stage"], dnat["host"], dnat["object"]) == (
        "dnat",
        "node-1",
        f"port_forwarding:{pf['id']}",
    )
    assert f"{ip_of(web)}:8080" in dnat["detail"]
    assert result["hops"][-1]["object"] == f"port:{web['id']}"
    # Port 81 maps to 8081, which the group refuses; 90 is forwarded nowhere; UDP neither.
    refused = await trace(cloud, from_ip="198.51.100.7", to=address, protocol="tcp", port=81)
    assert refused["verdict"] == "dropped"
    assert refused["hops"][-1]["stage"] == "security-group ingress"
    for protocol, port in (("tcp", 90), ("udp", 80)):
        nowhere = await trace(
            cloud, from_ip="198.51.100.7", to=address, protocol=protocol, port=port
        )
        assert nowhere["verdict"] == "dropped" and nowhere["hops"][0]["stage"] == "dnat"
    outside = "198.51.100.7"
    assert held_verdict(cloud, Packet(outside, address, "tcp", 80)) == "delivered"
    assert held_verdict(cloud, Packet(outside, address, "tcp", 81)) == "dropped"
    assert held_verdict(cloud, Packet(outside, address, "tcp", 90)) == "dropped"
