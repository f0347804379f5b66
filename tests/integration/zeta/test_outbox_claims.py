"""A sender recording an attempt and a change consumer dropping the same queued call, in
two transactions at once (two processes, or two tasks of one) on PostgreSQL.

Each test holds one side's write open on its own connection until the other side waits
on that row, then commits it: the interleaving a read before the write would get wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import pytest

from alcor.config import StoreConfig
from alcor.managers.gateway import planner
from alcor.managers.gateway import repo as gw_repo
from alcor.managers.gateway.messages import PORT_CREATE, PORT_DELETE
from alcor.managers.gateway.worker import OutboxWorker, Result
from alcor.store import Store, open_store, outbox
from alcor.store.outbox import Row
from alcor.store.schema import MIGRATIONS
from tests.cluster import lock_waiters

pytestmark = pytest.mark.postgresql
VPC = "11111111-1111-4111-8111-111111111111"
BODY = {
    "port_id": "p1",
    "vpc_id": VPC,
    "ips_port": [{"ip": "10.0.0.5", "vip": ""}],
    "mac_port": "fa:16:3e:00:00:01",
    "ip_node": "192.0.2.1",
    "mac_node": "52:54:00:00:00:01",
}


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[Store]:
    """A started store on the test's PostgreSQL database."""
    db = open_store(StoreConfig(url=postgres_url), MIGRATIONS)
    await db.start()
    yield db
    await db.stop()


async def _open(db_url: str, sql: str, *args: Any) -> tuple[asyncpg.Connection, Any]:
    """Run `sql` in a transaction left open on a connection of its own."""
    conn = await asyncpg.connect(db_url)
    txn = conn.transaction()
    await txn.start()
    await conn.execute(sql, *args)
    return conn, txn


async def _when_waiting(conn: asyncpg.Connection, task: asyncio.Task[Any]) -> None:
    """Return once a session waits on a lock `conn` holds (fail if `task` ends first)."""
    async with asyncio.timeout(20):
        while await lock_waiters(conn) < 1:
            assert not task.done(), task.result()
            await asyncio.sleep(0.01)


async def test_a_create_attempted_while_its_port_is_retracted_gets_a_delete(
    store: Store, postgres_url: str
) -> None:
    """A sender records its attempt of a port's create (not committed yet) while the
    consumer retracts the port: the consumer must not take the create for unsent (it
    goes out), so the port's DELETE is queued."""
    async with store.transaction():
        await planner.register_port(store, BODY, "node-1")
    reg = (await gw_repo.registered(store, ["p1"]))["p1"]
    conn, txn = await _open(
        postgres_url, "UPDATE outbox SET attempts = attempts + 1 WHERE id = $1", reg.create_row
    )
    try:

        async def retract() -> None:
            async with store.transaction():
                await planner.retract_port(store, reg)

        task = asyncio.create_task(retract())
        await _when_waiting(conn, task)
        await txn.commit()
        await task
    finally:
        await conn.close()
    rows = await outbox.rows(store)
    assert [(r.kind, r.outcome) for r in reversed(rows)] == [
        (PORT_CREATE, "superseded"),
        (PORT_DELETE, None),
    ]


class Recorder:
    """A worker.Sender that records what it sends and succeeds."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def take(self, rows: Sequence[Row]) -> list[Row]:
        """Return the head alone."""
        return [rows[0]]

    async def send(self, rows: Sequence[Row]) -> Result:
        """Record the rows as sent."""
        self.sent += [r.id for r in rows]
        return Result(done={r.id: "sent" for r in rows})

    async def settle(self, rows: Sequence[Row], result: Result) -> None:
        """Nothing to settle."""


async def test_a_create_dropped_while_a_sender_records_its_attempt_stays_unsent(
    store: Store, postgres_url: str
) -> None:
    """The consumer drops a queued create (not committed yet) after the sender read it as
    pending: the sender's attempt finds it settled and does not send it."""
    async with store.transaction():
        row = await outbox.enqueue(store, PORT_CREATE, VPC, "p1", BODY, now=0.0)
        after = await outbox.enqueue(store, PORT_DELETE, VPC, "p1", {"port_id": "p1"}, now=0.0)
    conn, txn = await _open(
        postgres_url,
        "UPDATE outbox SET done_at = 1, outcome = 'superseded' WHERE id = $1",
        row,
    )
    sender = Recorder()
    worker = OutboxWorker(
        store, sender, read_limit=10, parallel=1, retry_base_s=0.01, retry_cap_s=0.01, linger_s=0
    )
    try:
        worker.poke([VPC])
        await _when_waiting(conn, next(iter(worker._lanes.values())))
        await txn.commit()
        async with asyncio.timeout(20):
            while worker.running_lanes:
                await asyncio.sleep(0.01)
    finally:
        await worker.stop()
        await conn.close()
    assert sender.sent == [after]
