"""Restart persistence: a new app on the same SQLite file finds everything and continues."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from alcor.api.web import make_web_app
from alcor.app import build
from tests.integration.conftest import Api


async def _start(make_config) -> TestClient:
    client = TestClient(TestServer(make_web_app(build(make_config()))))
    await client.start_server()
    return client


async def test_everything_survives_a_restart_and_allocations_continue(make_config):
    """Networks, subnets, ports, nodes, tags and quotas persist; new allocations never collide."""
    client = await _start(make_config)
    api = Api(client)
    net = await api.network(name="n1", tags=["keep"])
    v4 = await api.subnet(net["id"], "10.0.0.0/24")
    v6 = await api.subnet(net["id"], "fd00:1::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    await api.node("node1", "192.0.2.11")
    ports = [
        await api.port(net["id"], **({"binding:host_id": "node1"} if i == 0 else {}))
        for i in range(5)
    ]
    await api.ok("DELETE", f"/v2.0/ports/{ports[1]['id']}", status=204)
    await api.ok("PUT", "/v2.0/quotas/p1", {"quota": {"port": 42}})
    before = {
        path: await api.get(path)
        for path in (
            "/v2.0/networks",
            "/v2.0/subnets",
            "/v2.0/ports",
            "/nodes",
            "/v2.0/security-groups",
            "/v2.0/quotas/p1",
        )
    }
    await client.close()

    client = await _start(make_config)
    try:
        api = Api(client)
        for path, body in before.items():
            assert await api.get(path) == body, path
        fresh = [await api.port(net["id"]) for _ in range(3)]
        old_ips = {f["ip_address"] for p in before["/v2.0/ports"]["ports"] for f in p["fixed_ips"]}
        new_ips = [
            f["ip_address"] for p in fresh for f in p["fixed_ips"] if f["subnet_id"] == v4["id"]
        ]
        assert new_ips == ["10.0.0.3", "10.0.0.7", "10.0.0.8"]  # the freed .3 first
        assert not old_ips & {f["ip_address"] for p in fresh for f in p["fixed_ips"]}
        macs = [p["mac_address"] for p in before["/v2.0/ports"]["ports"] + fresh]
        assert len(set(macs)) == len(macs)
        assert all(
            len(p["fixed_ips"]) == 2 and p["fixed_ips"][1]["subnet_id"] == v6["id"] for p in fresh
        )
        reply = await api.call(
            "POST",
            "/v2.0/ports",
            {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.2"}]}},
        )
        assert reply.status == 409 and reply.error == "IpAddressAlreadyAllocated"
        assert (await api.network())["provider:segmentation_id"] == 2
        bound = (await api.get(f"/v2.0/ports/{ports[0]['id']}"))["port"]
        assert bound["binding:vif_type"] == "ovs"
        renamed = await api.ok("PUT", f"/v2.0/networks/{net['id']}", {"network": {"name": "n2"}})
        assert (
            renamed["network"]["revision_number"]
            == before["/v2.0/networks"]["networks"][0]["revision_number"] + 1
        )
    finally:
        await client.close()


async def test_released_segmentation_ids_and_config_changes_survive_restart(make_config):
    """Freed tunnel ids are reused after restart; a narrowed range keeps ids in use taken."""
    client = await _start(make_config)
    api = Api(client)
    nets = [await api.network() for _ in range(3)]
    await api.ok("DELETE", f"/v2.0/networks/{nets[0]['id']}", status=204)
    await client.close()

    client = TestClient(
        TestServer(make_web_app(build(make_config(**{"network.tunnel_id_ranges": [[2, 5]]}))))
    )
    await client.start_server()
    try:
        api = Api(client)
        ids = [(await api.network())["provider:segmentation_id"] for _ in range(2)]
        assert ids == [4, 5]
        reply = await api.call("POST", "/v2.0/networks", {"network": {}})
        assert reply.status == 503
    finally:
        await client.close()
