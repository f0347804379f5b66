"""The change record: every committed resource change writes one row, in commit order."""

from __future__ import annotations

import asyncio

from alcor.api.web import ALCOR
from alcor.store import changes, feed


async def _changes(api, after: int) -> list[changes.Change]:
    """The changes committed after position `after`, as a reader of the record sees them."""
    return await feed.Reader(api.client.alcor.store, after).read_all()


async def _position(api) -> int:
    return await feed.position(api.client.alcor.store)


async def test_create_update_delete_are_recorded_in_order(api, net) -> None:
    """A port's create, update and delete are three records with their revisions and objects."""
    start = await _position(api)
    port = await api.port(net["id"], name="p1")
    await api.call("PUT", f"/v2.0/ports/{port['id']}", {"port": {"name": "p2"}})
    await api.call("DELETE", f"/v2.0/ports/{port['id']}")
    own = [c for c in await _changes(api, start) if c.resource == "port" and c.id == port["id"]]
    assert [(c.type, c.revision) for c in own] == [
        ("CREATED", 1),
        ("UPDATED", 2),
        ("DELETED", 3),
    ]
    assert own[1].object["name"] == "p2"
    assert own[2].object["name"] == "p2"  # a delete records the last state
    assert all(c.project_id == port["project_id"] for c in own)
    seqs = [c.seq for c in await _changes(api, start)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_failed_request_records_nothing(api, net) -> None:
    """A request that fails (rolled back) leaves no change behind."""
    start = await _position(api)
    reply = await api.call(
        "POST",
        "/v2.0/ports",
        {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "192.168.9.9"}]}},
    )
    assert reply.status == 400
    assert await _changes(api, start) == []


async def test_bulk_create_records_every_item(api, net) -> None:
    """A bulk create records one CREATED per item."""
    start = await _position(api)
    body = {"ports": [{"network_id": net["id"], "name": f"b{i}"} for i in range(5)]}
    reply = await api.call("POST", "/v2.0/ports", body)
    assert reply.status == 201
    created = [c for c in await _changes(api, start) if c.resource == "port"]
    assert sorted(c.object["name"] for c in created) == [f"b{i}" for i in range(5)]
    assert {c.type for c in created} == {"CREATED"}


async def test_prune_keeps_seq_growing(api, net) -> None:
    """Retention may delete every row; new changes still get higher seqs."""
    db = api.client.alcor.store
    before = max(c.seq for c in await changes.read_since(db, 0))
    async with api.client.alcor.store.transaction():
        await changes.prune(api.client.alcor.store, older_than=float("inf"))
    assert await changes.oldest_seq(db) is None
    await api.port(net["id"])
    assert await changes.oldest_seq(db) == max(c.seq for c in await changes.read_since(db, 0))
    assert await changes.oldest_seq(db) > before


async def test_prune_keeps_what_a_consumer_has_not_read(api, net) -> None:
    """Retention never deletes a change a durable consumer has not read yet."""
    store = api.client.alcor.store
    read_through = await feed.position(store)  # a seq on SQLite, an xid bound on PostgreSQL
    async with store.transaction():
        await changes.advance_consumer(store, "test-consumer", read_through)
    port = await api.port(net["id"])
    async with store.transaction():
        await changes.prune(store, older_than=float("inf"))
    left = await changes.read_since(store, 0)
    assert [c.id for c in left if c.resource == "port"] == [port["id"]]
    assert await changes.consumer_seq(store, "test-consumer") == read_through


async def test_wait_for_change_wakes_on_commit(api, net) -> None:
    """A reader waiting past the newest seq wakes when the next change commits."""
    store = api.client.alcor.store
    seen = store.change_seq
    assert seen <= await feed.position(store)
    assert not await store.wait_for_change(seen, timeout=0.01)
    waiter = asyncio.ensure_future(store.wait_for_change(seen, timeout=10))
    await api.port(net["id"])
    assert await waiter
    assert store.change_seq > seen


async def test_retention_prunes_old_changes(make_api) -> None:
    """The store's background task applies `store.change_retention_s`."""
    api = await make_api(**{"store.change_retention_s": 0.1})
    network = await api.network(name="short-lived")
    db = api.client.server.app[ALCOR].store
    assert any(c.id == network["id"] for c in await changes.read_since(db, 0))
    async with asyncio.timeout(10):
        while any(c.id == network["id"] for c in await changes.read_since(db, 0)):
            await asyncio.sleep(0.05)
    assert await feed.position(db) > 0


async def test_deleting_a_group_records_its_rules_deletes(api) -> None:
    """Rules that go with their group (or with their remote group) are recorded as deleted."""
    store = api.client.alcor.store
    group = await api.call("POST", "/v2.0/security-groups", {"security_group": {"name": "g"}})
    group_id = group.body["security_group"]["id"]
    rule_ids = {r["id"] for r in group.body["security_group"]["security_group_rules"]}
    start = await feed.position(store)
    assert (await api.call("DELETE", f"/v2.0/security-groups/{group_id}")).status == 204
    deleted = {
        c.id
        for c in await feed.Reader(store, start).read_all()
        if c.resource == "security_group_rule"
    }
    assert rule_ids and deleted == rule_ids
