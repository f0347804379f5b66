"""The planner: desired registrations diffed against what was queued (no calls made)."""

from __future__ import annotations

import pytest

import alcor.app  # noqa: F401 - importing the managers registers their extra columns
from alcor.managers.gateway import planner
from alcor.managers.gateway import repo as gw_repo
from alcor.managers.gateway.messages import (
    PORT_CREATE,
    PORT_DELETE,
    PORT_UPDATE,
    VPC_CREATE,
    VPC_DELETE,
)
from alcor.store import Store, outbox

NET = "11111111-1111-4111-8111-111111111111"
NODE = {"node_id": "n1", "local_ip": "192.0.2.1", "mac_address": "52:54:00:00:00:01"}


@pytest.fixture
def db(memory_db: Store) -> Store:
    """The in-memory store of tests/conftest.py."""
    return memory_db


def network(**more):
    return {
        "id": NET,
        "project_id": "p1",
        "provider:network_type": "vxlan",
        "provider:segmentation_id": 1001,
        **more,
    }


def port(ips=("10.0.0.5",), mac="fa:16:3e:00:00:01", vif="ovs", port_id="p1"):
    return {
        "id": port_id,
        "network_id": NET,
        "mac_address": mac,
        "fixed_ips": [{"subnet_id": "s", "ip_address": ip} for ip in ips],
        "binding:vif_type": vif,
    }


def body(**changes):
    return planner.port_body(port(**changes), NODE, "")


async def queued(db):
    """(kind, target, payload) of the pending rows, in lane order."""
    return [(r.kind, r.target, r.payload) for r in await outbox.lane(db, NET, 1000)]


async def attempt_all(db):
    """Pretend every pending row went out (attempts + 1)."""
    rows = await outbox.lane(db, NET, 1000)
    await outbox.start_attempt(db, [r.id for r in rows], 0.0, 0.0)


# ---- desired state ------------------------------------------------------------------------
def test_port_body_is_zetas_shape_ipv4_first():
    """All fixed IPs, IPv4 first; the node's data-path IP wins over its local IP."""
    node = {**NODE, "data-path-ip": "198.51.100.1"}
    got = planner.port_body(port(ips=("2001:db8::5", "10.0.0.5")), node, "")
    assert got == {
        "port_id": "p1",
        "vpc_id": NET,
        "ips_port": [{"ip": "10.0.0.5", "vip": ""}, {"ip": "2001:db8::5", "vip": ""}],
        "mac_port": "fa:16:3e:00:00:01",
        "ip_node": "198.51.100.1",
        "mac_node": "52:54:00:00:00:01",
    }
    assert planner.port_body(port(), NODE, "02:00:00:00:00:09")["mac_node"] == "02:00:00:00:00:09"


@pytest.mark.parametrize(
    ("the_port", "node"),
    [
        (port(vif="unbound"), NODE),
        (port(vif="binding_failed"), NODE),
        (port(), None),
        (port(ips=()), NODE),
        (port(ips=("2001:db8::5",)), NODE),
        (None, NODE),
    ],
    ids=["unbound", "binding-failed", "no-node", "no-ip", "ipv6-only", "deleted"],
)
def test_ports_zeta_cannot_program_are_not_registered(the_port, node):
    """Unbound, unknown host, no IPv4 address, or gone: no registration."""
    assert planner.port_body(the_port, node, "") is None


@pytest.mark.parametrize(
    ("net", "wanted"),
    [
        (network(), True),
        (network(**{"provider:network_type": "vlan"}), False),
        (network(**{"provider:segmentation_id": None}), False),
        (None, False),
    ],
)
def test_only_vxlan_networks_get_a_gateway(net, wanted):
    """Zeta serves VXLAN VPCs: a VNI is what it is registered by."""
    assert planner.wants_gateway(net) is wanted


# ---- ports --------------------------------------------------------------------------------
async def test_new_binding_queues_one_create(db):
    """A bound port is one PORT_CREATE with Zeta's body, remembered as registered."""
    assert await planner.sync_port(db, None, body(), "n1")
    assert await queued(db) == [(PORT_CREATE, "p1", body())]
    reg = (await gw_repo.registered(db, ["p1"]))["p1"]
    assert reg.body == body() and reg.node_id == "n1"
    assert not await planner.sync_port(db, reg, body(), "n1")  # nothing changed: nothing queued


async def test_mac_only_change_after_sending_is_a_put(db):
    """Zeta's PUT /ports/{id} changes mac_port: the only change sent in place."""
    await planner.sync_port(db, None, body(), "n1")
    await attempt_all(db)
    reg = (await gw_repo.registered(db, ["p1"]))["p1"]
    await planner.sync_port(db, reg, body(mac="fa:16:3e:00:00:02"), "n1")
    assert (await queued(db))[1:] == [
        (PORT_UPDATE, "p1", {"port_id": "p1", "mac_port": "fa:16:3e:00:00:02"})
    ]


async def test_any_change_before_sending_rewrites_the_queued_create(db):
    """A create never sent is dropped and queued again with the new body (no PUT/DELETE)."""
    await planner.sync_port(db, None, body(), "n1")
    reg = (await gw_repo.registered(db, ["p1"]))["p1"]
    await planner.sync_port(db, reg, body(mac="fa:16:3e:00:00:02"), "n1")
    assert await queued(db) == [(PORT_CREATE, "p1", body(mac="fa:16:3e:00:00:02"))]
    superseded = (await outbox.rows(db))[-1]
    assert (superseded.kind, superseded.outcome) == (PORT_CREATE, "superseded")


async def test_address_change_after_sending_is_delete_then_create(db):
    """A new IP (or host) cannot be PUT at Zeta: DELETE, then POST again."""
    await planner.sync_port(db, None, body(), "n1")
    await attempt_all(db)
    reg = (await gw_repo.registered(db, ["p1"]))["p1"]
    await planner.sync_port(db, reg, body(ips=("10.0.0.9",)), "n1")
    # The first create's outcome is unknown: it is dropped, and the DELETE probes.
    assert await queued(db) == [
        (PORT_DELETE, "p1", {"port_id": "p1"}),
        (PORT_CREATE, "p1", body(ips=("10.0.0.9",))),
    ]


async def test_a_queued_delete_survives_a_later_rewrite(db):
    """Rewriting an unsent create never drops the DELETE of what was sent before it."""
    await planner.sync_port(db, None, body(), "n1")
    await attempt_all(db)
    reg = (await gw_repo.registered(db, ["p1"]))["p1"]
    await planner.sync_port(db, reg, body(ips=("10.0.0.9",)), "n1")
    reg = (await gw_repo.registered(db, ["p1"]))["p1"]
    await planner.sync_port(db, reg, body(ips=("10.0.0.10",)), "n1")
    assert [(k, t) for k, t, _ in await queued(db)] == [(PORT_DELETE, "p1"), (PORT_CREATE, "p1")]
    assert (await queued(db))[-1][2]["ips_port"] == [{"ip": "10.0.0.10", "vip": ""}]


async def test_retracting_an_unsent_port_sends_nothing(db):
    """Unbound before its create went out: the create is dropped, no DELETE."""
    await planner.sync_port(db, None, body(), "n1")
    reg = (await gw_repo.registered(db, ["p1"]))["p1"]
    assert await planner.sync_port(db, reg, None, "")
    assert await queued(db) == []
    assert await gw_repo.registered(db, ["p1"]) == {}


async def test_retracting_a_sent_port_deletes_it(db):
    """Unbound after its create may have reached Zeta: DELETE it."""
    await planner.sync_port(db, None, body(), "n1")
    await attempt_all(db)
    reg = (await gw_repo.registered(db, ["p1"]))["p1"]
    await planner.sync_port(db, reg, None, "")
    assert [(k, t) for k, t, _ in await queued(db)] == [(PORT_DELETE, "p1")]


# ---- gateways -----------------------------------------------------------------------------
async def test_open_gateway_queues_the_vpc_with_only_its_id_and_vni(db):
    """A PENDING gateway, and POST /vpcs {vpc_id, vni} (Zeta refuses any other key)."""
    gateway = await planner.open_gateway(db, network())
    assert (gateway["status"], gateway["revision_number"], gateway["type"]) == (
        "PENDING",
        1,
        "ZETA",
    )
    assert await queued(db) == [(VPC_CREATE, NET, {"vpc_id": NET, "vni": 1001})]


async def test_close_before_anything_went_out_removes_the_gateway_at_once(db):
    """VPC and ports never sent: all dropped, gateway row gone, nothing to tell Zeta."""
    gateway = await planner.open_gateway(db, network())
    await planner.sync_port(db, None, body(), "n1")
    assert await planner.close_gateway(db, gateway)
    assert await queued(db) == []
    assert await gw_repo.gateway_of_network(db, NET) is None


async def test_close_after_sending_deletes_ports_then_the_vpc(db):
    """The VPC's DELETE goes last in its lane, after its ports'."""
    gateway = await planner.open_gateway(db, network())
    await planner.sync_port(db, None, body(), "n1")
    await planner.sync_port(db, None, body(port_id="p2"), "n1")
    await attempt_all(db)
    assert not await planner.close_gateway(db, gateway)
    assert [(k, t) for k, t, _ in await queued(db)] == [
        (PORT_DELETE, "p1"),
        (PORT_DELETE, "p2"),
        (VPC_DELETE, NET),
    ]


async def test_a_deletion_read_twice_queues_one_vpc_delete(db):
    """The network's deletion read again (a commit window read twice, or the change
    consumer of another process) finds its DELETE queued: Zeta gets one."""
    gateway = await planner.open_gateway(db, network())
    await planner.sync_port(db, None, body(), "n1")
    await attempt_all(db)
    assert not await planner.close_gateway(db, gateway)
    assert not await planner.close_gateway(db, gateway)
    assert [(k, t) for k, t, _ in await queued(db)] == [(PORT_DELETE, "p1"), (VPC_DELETE, NET)]


async def test_resync_deletes_stale_rows_then_recreates(db):
    """Lost state: every queued row dropped; ports, then VPC deleted; VPC, then ports sent."""
    gateway = await planner.open_gateway(db, network())
    await planner.sync_port(db, None, body(), "n1")
    await attempt_all(db)
    await planner.resync(db, gateway, 1001)
    assert [(k, t) for k, t, _ in await queued(db)] == [
        (PORT_DELETE, "p1"),
        (VPC_DELETE, NET),
        (VPC_CREATE, NET),
        (PORT_CREATE, "p1"),
    ]
    assert (await queued(db))[2][2] == {"vpc_id": NET, "vni": 1001, "resync": True}


async def test_reopen_after_a_queued_delete_queues_the_vpc_again(db):
    """A network re-created with the same id while its VPC's delete is queued."""
    gateway = await planner.open_gateway(db, network())
    await attempt_all(db)
    await planner.close_gateway(db, gateway)
    assert await planner.reopen_gateway(db, network())
    assert [k for k, _, _ in await queued(db)] == [VPC_DELETE, VPC_CREATE]
    assert not await planner.reopen_gateway(db, network())
