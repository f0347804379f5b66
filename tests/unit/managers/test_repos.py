"""The managers' repository modules, on an in-memory database."""

from __future__ import annotations

import alcor.app  # noqa: F401 - importing the managers registers their extra columns
from alcor.managers.acl import repo as acl_repo
from alcor.managers.ipam import repo as ipam_repo
from alcor.managers.mac import repo as mac_repo
from alcor.managers.network import repo as segment_repo
from alcor.managers.port import repo as port_repo
from alcor.managers.port.messages import QueryPorts
from alcor.managers.quota import repo as quota_repo
from alcor.managers.security_group import repo as sg_repo
from alcor.resources import repo
from alcor.resources.port import PORT
from alcor.store import Store


async def _port(db: Store, port_id: str, **values: object) -> None:
    obj = {
        "id": port_id,
        "project_id": "p1",
        "network_id": "n1",
        "network_project_id": "p1",
        "device_owner": "compute:nova",
        "device_id": "vm",
        "status": "DOWN",
        "revision_number": 1,
        "neighbor_revision": 1,
        "fixed_ips": [],
        **values,
    }
    await repo.insert(db, PORT, obj)


async def test_mac_allocations_are_unique_per_network_and_released_by_owner(
    memory_db: Store,
) -> None:
    """A MAC is taken on its network and everywhere; release needs the owner."""
    db = memory_db
    await mac_repo.insert(db, "n1", "fa:16:3e:00:00:01", "p1", auto=False)
    await mac_repo.insert_many(db, "n2", ["fa:16:3e:00:00:02"], ["p2"])
    assert await mac_repo.in_use_on_network(db, "n1", "fa:16:3e:00:00:01")
    assert not await mac_repo.in_use_on_network(db, "n2", "fa:16:3e:00:00:01")
    assert await mac_repo.taken_of(db, ["fa:16:3e:00:00:02", "fa:16:3e:00:00:09"]) == {
        "fa:16:3e:00:00:02"
    }
    await mac_repo.delete(db, "n1", "fa:16:3e:00:00:01", "someone-else")
    assert await mac_repo.in_use(db, "fa:16:3e:00:00:01")
    await mac_repo.delete(db, "n1", "fa:16:3e:00:00:01", "p1")
    await mac_repo.delete_network(db, "n2")
    assert not await mac_repo.in_use(db, "fa:16:3e:00:00:01")
    assert not await mac_repo.in_use(db, "fa:16:3e:00:00:02")


async def test_ipam_pools_and_allocations_round_trip(memory_db: Store) -> None:
    """Pools bound addresses; an allocation has one holder until it is deleted."""
    db = memory_db
    await ipam_repo.set_pools(db, "s1", [(10, 20), (30, 40)])
    assert await ipam_repo.pool_bounds(db, "s1") == [(10, 20), (30, 40)]
    assert await ipam_repo.in_pools(db, "s1", 15) and not await ipam_repo.in_pools(db, "s1", 25)
    await ipam_repo.insert_allocation(db, "s1", 15, "0.0.0.15", "port-a", "n1", auto=False)
    assert await ipam_repo.holder(db, "s1", 15) == "port-a"
    assert await ipam_repo.port_allocations(db, "port-a") == [("s1", "0.0.0.15")]
    assert await ipam_repo.subnet_allocations(db, "s1") == [("port-a", "0.0.0.15", False)]
    assert await ipam_repo.allocated_values(db, "s1") == [15]
    assert await ipam_repo.count_allocations(db, "s1") == 1
    await ipam_repo.delete_allocation(db, "s1", 15)
    assert await ipam_repo.holder(db, "s1", 15) is None
    await ipam_repo.drop_subnet(db, "s1")
    assert await ipam_repo.pool_bounds(db, "s1") == []


async def test_segments_are_held_per_kind_and_released_with_their_network(memory_db: Store) -> None:
    """A segment id is in use within its kind until its network lets it go."""
    db = memory_db
    await segment_repo.insert(db, "segment:tunnel", 7, "n1")
    assert await segment_repo.in_use(db, "segment:tunnel", 7)
    assert await segment_repo.in_use(db, "segment:tunnel")
    assert not await segment_repo.in_use(db, "segment:vlan:physnet1", 7)
    assert await segment_repo.taken(db, "segment:tunnel") == [7]
    assert await segment_repo.delete_of_network(db, "n1") == [("segment:tunnel", 7)]
    assert not await segment_repo.in_use(db, "segment:tunnel")


async def test_quota_overrides_replace_and_delete(memory_db: Store) -> None:
    """Limits are stored per project and resource; deleting reports whether any existed."""
    db = memory_db
    await quota_repo.set_limits(db, "p1", {"port": 5, "network": 2})
    await quota_repo.set_limits(db, "p1", {"port": 9})
    assert sorted(await quota_repo.overrides(db)) == [("p1", "network", 2), ("p1", "port", 9)]
    assert await quota_repo.projects(db) == ["p1"] and await quota_repo.projects(db, "p2") == []
    assert await quota_repo.delete_project(db, "p1") is True
    assert await quota_repo.delete_project(db, "p1") is False


async def test_port_queries_use_allocations_and_links(memory_db: Store) -> None:
    """Ports are found by address, subnet, device and group link."""
    db = memory_db
    await _port(db, "a", device_id="r1", device_owner="network:router_interface")
    await _port(db, "b")
    await ipam_repo.insert_allocation(db, "s1", 5, "10.0.0.5", "a", "n1", auto=False)
    await port_repo.link_security_groups(db, [("b", "g1")])
    by_ip = port_repo.with_addresses({"ip_address": ["10.0.0.5"]})
    assert by_ip is not None and [p["id"] for p in await repo.find(db, PORT, by_ip)] == ["a"]
    assert port_repo.with_addresses({}) is None
    where, order = port_repo.matching(QueryPorts(subnet_id="s1", device_id="r1"))
    assert [p["id"] for p in await repo.find(db, PORT, where, order=order)] == ["a"]
    where, order = port_repo.matching(QueryPorts(security_group_id="g1"))
    assert [p["id"] for p in await repo.find(db, PORT, where, order=order)] == ["b"]
    non_router = port_repo.non_router_ports_on("n1")
    assert [p["id"] for p in await repo.find(db, PORT, non_router)] == ["b"]
    await port_repo.unlink_security_groups(db, "b")
    where, order = port_repo.matching(QueryPorts(security_group_id="g1"))
    assert await repo.find(db, PORT, where, order=order) == []


async def test_neighbor_bump_and_status_change_record_rules(memory_db: Store) -> None:
    """Neighbor revisions follow the revision rule; only a real status change is recorded."""
    db = memory_db
    await _port(db, "a", neighbor_revision=4)
    await port_repo.bump_neighbor_revisions(db, ["a", "missing"])
    port = await repo.get(db, PORT, "a")
    assert port is not None and port["neighbor_revision"] == 5
    before = await db.fetchval("SELECT COUNT(*) FROM changes")
    assert await repo.set_status(db, PORT, "ACTIVE", repo.equals("id", "a")) == ["a"]
    assert await repo.set_status(db, PORT, "ACTIVE", repo.equals("id", "a")) == []
    assert await db.fetchval("SELECT COUNT(*) FROM changes") == before + 1


async def test_security_group_rule_queries(memory_db: Store) -> None:
    """Rules referencing a group are found, and deleted with it."""
    db = memory_db
    await db.execute(
        "INSERT INTO security_group_rules (id, security_group_id, remote_group_id, normalized, "
        "seq, sg_project_id, project_id, direction, ethertype) VALUES "
        "('r1', 'g2', 'g1', 'k1', 1, 'p', 'p', 'ingress', 'IPv4')"
    )
    assert await sg_repo.groups_referencing(db, "g1") == ["g2"]
    assert await sg_repo.rule_with_key(db, "g2", "k1") == "r1"
    assert await sg_repo.next_rule_seq(db, "g2") == 2 and await sg_repo.next_rule_seq(db, "g9") == 1
    await sg_repo.delete_rules_involving(db, "g1")
    assert await sg_repo.rule_with_key(db, "g2", "k1") is None


async def test_acl_rule_numbers_are_unique_per_acl(memory_db: Store) -> None:
    """A number clash is found within an ACL, never across ACLs."""
    db = memory_db
    for rule_id, acl, number in (("r1", "a1", 10), ("r2", "a1", 10), ("r3", "a2", 10)):
        await db.execute(
            "INSERT INTO network_acl_rules (id, network_acl_id, number) VALUES (?, ?, ?)",
            [rule_id, acl, number],
        )
    assert await acl_repo.duplicate_number(db, ["a1", "a2"], 100) == ("a1", 10)
    assert await acl_repo.duplicate_number(db, ["a2"], 100) is None
    assert await acl_repo.rule_with_number(db, "a2", 10, None) == "r3"
    assert await acl_repo.rule_with_number(db, "a2", 10, "r3") is None
