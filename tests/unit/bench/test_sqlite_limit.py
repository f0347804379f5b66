"""The SQLite limit replays exactly the rows a real port create writes, with fresh keys."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.api.web import make_web_app
from alcor.app import build
from alcor.bench import sqlite_limit


async def _create(client: TestClient, path: str, body: dict) -> dict:
    resp = await client.post(path, json=body)
    assert resp.status == 201, await resp.text()
    return await resp.json()


@pytest.fixture
async def captured(make_config) -> tuple[sqlite_limit.PortWrites, str]:
    """The writes of one port create on a network that already has a port, and its id."""
    config = make_config()
    alcor = build(config)
    db = Path(config.store.path)
    async with TestClient(TestServer(make_web_app(alcor))) as client:
        net = (await _create(client, "/v2.0/networks", {"network": {}}))["network"]["id"]
        await _create(
            client, "/v2.0/subnets", {"subnet": {"network_id": net, "cidr": "10.9.0.0/16"}}
        )
        await _create(client, "/v2.0/ports", {"port": {"network_id": net}})
        before = sqlite_limit.snapshot(db)
        port = (await _create(client, "/v2.0/ports", {"port": {"network_id": net}}))["port"]
        writes = sqlite_limit.capture(db, before, sqlite_limit.snapshot(db))
    return writes, port["id"]


def test_capture_finds_the_rows_of_one_port_create(captured):
    """The port row, its IP, MAC, group link and change row are inserts; the free range changes."""
    port_writes, port_id = captured
    inserted = {t.name: len(t.inserts) for t in port_writes.tables if t.inserts}
    changed = {t.name for t in port_writes.tables if t.changes}
    assert {"ports", "ip_allocations", "macs", "port_security_groups", "changes"} <= set(inserted)
    assert inserted["ports"] == 1
    assert "free_ranges" in changed
    assert port_id in port_writes.minted
    assert port_writes.rows_written() >= 6


def test_replay_writes_every_copy_with_unique_keys(captured):
    """Three single commits and a bulk of five add eight ports and all their rows."""
    port_writes, _ = captured
    replay = sqlite_limit.Replay(port_writes)
    try:
        count = {
            t: replay.conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for t in ("ports", "ip_allocations", "macs", "changes")
        }
        assert replay.ports(3, 1) > 0
        assert replay.ports(5, 5) > 0
        for table, before in count.items():
            after = replay.conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            assert after == before + 8, table
        ranges = replay.conn.execute("SELECT count(*) FROM free_ranges").fetchone()[0]
        assert ranges == len(port_writes.before["free_ranges"])
        ids = [r[0] for r in replay.conn.execute("SELECT id FROM ports")]
        assert len(ids) == len(set(ids))
    finally:
        replay.close()


def test_replay_mints_random_ids_and_macs_like_alcor(captured):
    """Copies get fresh uuid4 ids and MACs (same prefix), not the create's key plus a suffix.

    A suffixed copy lands next to the previous one in every index, a locality that real
    random ids do not have, and that made the limit optimistic.
    """
    port_writes, port_id = captured
    replay = sqlite_limit.Replay(port_writes)
    try:
        replay.ports(50, 10)
        rows = replay.conn.execute("SELECT id, mac_address FROM ports WHERE id != ?", (port_id,))
        ids, macs = zip(*rows, strict=True)
        assert all(uuid.UUID(i).version == 4 for i in ids)
        assert len(set(ids)) == len(ids) and sorted(ids) != list(ids)
        assert len(set(macs)) == len(macs)
        assert all(m.startswith("fa:16:3e:") and len(m) == 17 for m in macs)
    finally:
        replay.close()


def test_replay_fails_loudly_on_a_key_it_did_not_refresh(captured):
    """A minted key left out makes the second copy collide, as a real duplicate would."""
    port_writes, port_id = captured
    port_writes.minted = [v for v in port_writes.minted if v != port_id]
    replay = sqlite_limit.Replay(port_writes)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            replay.ports(2, 1)
    finally:
        replay.close()
