"""What the southbound builds GatewayStates from: events, the network's gateway_ids, and
GatewaysOfNetwork (southbound spec §8.3)."""

from __future__ import annotations

import json

from alcor.api.service import ALCOR
from alcor.managers.gateway.messages import (
    Destination,
    GatewayChanged,
    GatewayDeleted,
    GatewaysOfNetwork,
)
from alcor.managers.network.messages import LookupNetwork
from tests.integration.zeta.conftest import eventually, gateway_of, settled


async def test_ready_change_and_removal_are_announced(zapi, zeta):
    """READY: GatewayChanged with Zeta's answer (port_ibo an int) and the VPC's gateway_ids;
    re-created with new gateways: a new revision; network deleted: GatewayDeleted."""
    alcor = zapi.client.server.app[ALCOR]
    seen: list[object] = []
    alcor.bus.subscribe(GatewayChanged, seen.append)
    alcor.bus.subscribe(GatewayDeleted, seen.append)
    network = await zapi.network(name="n1")
    gateway = await settled(zapi, network["id"])
    await alcor.bus.join()
    [changed] = seen
    record = changed.gateway
    assert (record.id, record.vpc_id, record.revision, record.status) == (
        gateway["id"],
        network["id"],
        2,
        "READY",
    )
    assert record.port_ibo == 8300 and record.zgc_id == gateway["zgc_id"]
    assert record.destinations[0] == Destination("10.254.0.2", "aa:bb:cc:00:00:02")
    stored = await alcor.bus.call(LookupNetwork(id=network["id"]))
    assert stored["gateway_ids"] == [gateway["id"]]
    assert stored["revision_number"] == network["revision_number"] + 1
    assert await alcor.bus.call(GatewaysOfNetwork(network_id=network["id"])) == [record]
    public = await zapi.get(f"/v2.0/networks/{network['id']}")
    assert "gateway_ids" not in public["network"]  # internal, for the VPC goal state

    await zapi.ok("DELETE", f"/v2.0/networks/{network['id']}", status=204)

    async def gone():
        return await gateway_of(zapi, network["id"]) is None

    await eventually(gone)
    await alcor.bus.join()
    assert isinstance(seen[-1], GatewayDeleted) and seen[-1].gateway.id == gateway["id"]
    assert await alcor.bus.call(GatewaysOfNetwork(network_id=network["id"])) == []


async def test_recreation_under_a_new_zgc_is_one_new_revision(zapi, zeta):
    """A VPC re-created after Zeta's restart: the new zgc_id is one revision (announced),
    the destinations hosts tunnel to are the same."""
    alcor = zapi.client.server.app[ALCOR]
    seen: list[object] = []
    alcor.bus.subscribe(GatewayChanged, seen.append)
    await zapi.node("host-1", "192.0.2.11")
    network, _ = await zapi.lan("10.1.0.0/24")
    await zapi.port(network["id"], **{"binding:host_id": "host-1"})
    before = await settled(zapi, network["id"])
    zeta.restart()
    zeta.create_zgc()  # same address range: same gateways, new zgc id
    await zapi.port(network["id"], **{"binding:host_id": "host-1"})

    async def recreated():
        found = await gateway_of(zapi, network["id"])
        return found["zgc_id"] != before["zgc_id"] and found["pending_operations"] == 0

    await eventually(recreated)
    after = await settled(zapi, network["id"])
    await alcor.bus.join()
    assert after["revision_number"] == before["revision_number"] + 1  # zgc_id changed
    assert after["destinations"] == before["destinations"]
    assert [e.gateway.revision for e in seen] == [2, 3]


async def test_gateway_changes_are_in_the_watch_stream(zapi, zeta):
    """GET /v2.0/watch?resources=gateway shows the gateway's create and its READY update."""
    network = await zapi.network(name="n1")
    gateway = await settled(zapi, network["id"])
    async with zapi.client.get("/v2.0/watch?since=0&resources=gateway") as resp:
        assert resp.status == 200
        events = [json.loads(await resp.content.readline()) for _ in range(2)]
    assert [(e["type"], e["object"]["id"]) for e in events] == [
        ("CREATED", gateway["id"]),
        ("UPDATED", gateway["id"]),
    ]
    assert events[1]["object"]["status"] == "READY" and events[1]["object"]["zgc_id"]
