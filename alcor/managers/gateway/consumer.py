"""The gateway manager's durable reading of the change record: changes in, outbox rows out.

Network, port and node changes are read after the consumer's cursor. For each, the
current state of what it touched is diffed against what Zeta was told (planner.py), and
in ONE transaction the implied outbox rows and gateway rows are written and the cursor
advances. The changes are durable with the writes that made them, and turning them into
outbox rows is atomic with the cursor: a crash at any point loses nothing and repeats
nothing. Diffing current state (not replaying each change) makes a re-read harmless.

Several processes on one database each run a consumer of the one stored cursor. Each
transaction takes the consumer's advisory lock first, so that the registrations it diffs
against include everything the others committed (two concurrent diffs would both find a
port unregistered and queue its create twice); and it goes on only while the stored cursor
is where this process left it, else it resumes from there (the others read those changes).
What it still reads twice (a commit window read by both, page by page) diffs to nothing:
ports and nodes are read as they are now, not taken from the change, since a change's copy
may be older than what another process has already told Zeta.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from alcor.bus import Bus
from alcor.config import ZetaConfig
from alcor.managers.common import admin_context
from alcor.managers.gateway import planner
from alcor.managers.gateway import repo as gw_repo
from alcor.managers.gateway.state import GatewayState
from alcor.managers.gateway.worker import OutboxWorker
from alcor.managers.network.messages import ListNetworks, LookupNetwork
from alcor.managers.node.messages import LookupNodeByName
from alcor.managers.port.messages import LookupPorts, QueryPorts
from alcor.resources.repo import ListQuery
from alcor.store import Store, changes, feed

_LOGGER = logging.getLogger(__name__)
CONSUMER = "gateway"
WATCHED = ("network", "port", "host_info")
BATCH = 500  # changes per transaction: bounds how long the API waits for the writer
IDLE_PERSIST_S = 10.0  # how stale the stored cursor may get while only other changes pass
LOCK = "gateway-changes"  # serialises the consumers of several processes (store.lock)


class ChangeConsumer:
    """Turn committed network/port/node changes into outbox rows."""

    def __init__(
        self,
        bus: Bus,
        store: Store,
        config: ZetaConfig,
        state: GatewayState,
        worker: OutboxWorker,
        shared: bool = False,
    ) -> None:
        self._bus = bus
        self._store = store
        self._config = config
        self._state = state
        self._worker = worker
        # Nodes by name, kept across batches: a batch with any node change clears it, and
        # the ports on that node are synced again, so a stale entry never outlives a batch.
        self._nodes: dict[str, dict[str, Any] | None] = {}
        self._seen = 0  # read through here (memory)
        self._stored = 0  # read through here (committed)
        self._stored_at = 0.0
        self._reader: feed.Reader | None = None  # PostgreSQL: commit windows (feed.py)
        self._shared = shared  # other processes consume the same cursor

    async def catch_up(self) -> None:
        """Resume at the stored cursor, or reconcile everything when there is none."""
        stored = await changes.consumer_seq(self._store, CONSUMER)
        if stored is None:
            stored = await self._reconcile_all()
        self._seen = self._stored = stored
        self._stored_at = time.monotonic()
        self._reader = feed.Reader(self._store, stored, WATCHED, BATCH)

    async def run(self) -> None:
        """Follow the change record until cancelled (failures are logged and retried)."""
        while True:
            try:
                more = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("gateway: reading the change record failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if not more and await self._store.wait_for_change(self._seen, timeout=IDLE_PERSIST_S):
                # Let more commits land: one transaction then carries the changes of many
                # API calls (under load, otherwise, every API commit would cost another).
                await asyncio.sleep(self._config.linger_s)

    @property
    def unread(self) -> int:
        """Return how many committed changes (of any resource) are not read yet."""
        return max(0, self._store.change_seq - self._seen)

    @property
    def caught_up(self) -> bool:
        """Return True when every committed change has been read (tests, diagnostics)."""
        return self.unread == 0

    async def step(self) -> bool:
        """Process the next batch of changes; return True when more may be waiting."""
        batch, upto, more = await self._next_batch()
        idle = upto > self._stored and time.monotonic() - self._stored_at > IDLE_PERSIST_S
        if batch or idle:
            async with self._store.transaction() as txn:
                if not await self._hold_cursor():
                    return True  # another process read these: go on from where it stopped
                keys = await self.apply(batch) if batch else set()
                await self._store_cursor(upto)
                txn.after_commit.append(lambda: self._worker.poke(keys))
        self._seen = upto
        return more

    async def _hold_cursor(self) -> bool:
        """Several processes: take the consumers' lock (inside the transaction) and tell
        whether the stored cursor is still where this process left it; if not, resume the
        reading from the stored cursor. One process: True."""
        if not self._shared:
            return True
        await self._store.lock(LOCK)
        stored = await changes.consumer_seq(self._store, CONSUMER)
        if stored is None or stored == self._stored:
            return True
        self._seen = self._stored = stored
        self._stored_at = time.monotonic()
        self._reader = feed.Reader(self._store, stored, WATCHED, BATCH)
        return False

    async def _next_batch(self) -> tuple[list[changes.Change], int, bool]:
        """Return the next watched changes, the position read through, and whether more
        may be waiting (a full batch, or a PostgreSQL commit window not read to its end)."""
        db = self._store
        if db.dialect == "sqlite":  # one writer: seq order is commit order
            high = await changes.last_seq(db)  # read first: nothing committed later is below
            batch = await changes.read_since(db, self._seen, limit=BATCH, resources=WATCHED)
            full = len(batch) == BATCH
            return batch, batch[-1].seq if full else max([high, *(c.seq for c in batch[-1:])]), full
        if self._reader is None:
            self._reader = feed.Reader(db, self._seen, WATCHED, BATCH)
        batch = await self._reader.read()
        # Inside a window the position is the window's start: a restart reads it again
        # (harmless, see the module docstring).
        return batch, self._reader.position, self._reader.in_window

    async def _store_cursor(self, seq: int) -> None:
        await changes.advance_consumer(self._store, CONSUMER, seq)
        self._stored, self._stored_at = seq, time.monotonic()

    async def apply(self, batch: Iterable[changes.Change]) -> set[str]:
        """Queue what a batch of changes implies (inside a transaction); return its lanes."""
        # Dicts as ordered sets: objects are synced in the order they first changed. A
        # port's last change in the batch is its state as of the batch (None: deleted),
        # so it needs no lookup; later changes come with a later batch.
        networks: dict[str, None] = {}
        ports: dict[str, dict[str, Any] | None] = {}
        nodes: dict[str, dict[str, Any]] = {}
        for change in batch:
            if change.resource == "network":
                networks[change.id] = None
            elif change.resource == "port":
                ports[change.id] = None if change.type == "DELETED" else change.object
            else:
                nodes[change.id] = change.object
        if nodes or self._shared:
            # Several processes: another may have read a node's change (this one never
            # will), so no node is kept beyond its batch.
            self._nodes.clear()
        lookup = await self._ports_on_nodes(nodes) - ports.keys()
        if self._shared:
            lookup |= ports.keys()  # as they are now (module docstring)
        if lookup:
            found = await self._bus.call(LookupPorts(ids=sorted(lookup)))
            ports.update({i: found.get(i) for i in sorted(lookup)})
        return await self._sync(list(networks), ports)

    async def _ports_on_nodes(self, nodes: dict[str, dict[str, Any]]) -> set[str]:
        """Ports registered on, or now bound to, the nodes (a node's address or MAC changed)."""
        out: set[str] = set()
        for node_id, node in nodes.items():
            out.update(await gw_repo.registered_on_node(self._store, node_id))
            bound = await self._bus.call(QueryPorts(host_id=node["node_name"], fields=("id",)))
            out.update(p["id"] for p in bound)
        return out

    async def _sync(
        self, network_ids: list[str], ports: dict[str, dict[str, Any] | None]
    ) -> set[str]:
        """Open gateways, then sync ports (id -> current state, None when gone), then close
        gateways (a VPC goes after its ports)."""
        db = self._store
        keys: set[str] = set()
        networks = {i: await self._bus.call(LookupNetwork(id=i)) for i in network_ids}
        changed: set[str] = set()  # lanes whose gateway status may have changed
        opened = [n for n in networks.values() if planner.wants_gateway(n)]
        for network in opened:
            assert network is not None
            gateway = await gw_repo.gateway_of_network(db, network["id"])
            if gateway is None:
                await planner.open_gateway(db, network)
            elif not await planner.reopen_gateway(db, network):
                continue
            changed.add(network["id"])
        keys = set(changed)
        synced, dropped = await self._sync_ports(ports) if ports else (set(), set())
        keys |= synced
        changed |= dropped
        for network_id, network in networks.items():
            gateway = await gw_repo.gateway_of_network(db, network_id)
            if gateway is not None and not planner.wants_gateway(network):
                if await planner.close_gateway(db, gateway):
                    await self._state.removed(db, gateway)
                    continue
                keys.add(network_id)
                changed.add(network_id)
        # New rows (never attempted, no error) leave a status as it was; only opening,
        # closing or dropping rows (a failing one, maybe) can change it.
        for key in changed:
            gateway = await gw_repo.gateway_of_network(db, key)
            if gateway is not None:
                await self._state.refresh(db, gateway)
        return keys

    async def _sync_ports(
        self, ports: dict[str, dict[str, Any] | None]
    ) -> tuple[set[str], set[str]]:
        """Queue what the ports need; return the lanes written, and those that lost rows."""
        db = self._store
        regs = await gw_repo.registered(db, list(ports))
        gateways = await gw_repo.gateways_of_networks(
            db, sorted({p["network_id"] for p in ports.values() if p is not None})
        )
        nodes = self._nodes
        keys: set[str] = set()
        dropped: set[str] = set()
        for port_id, port in ports.items():
            body, node_id = None, ""
            if port is not None and port["network_id"] in gateways:
                host = port["binding:host_id"]
                if host and host not in nodes:
                    nodes[host] = await self._bus.call(LookupNodeByName(name=host))
                node = nodes.get(host) if host else None
                body = planner.port_body(port, node, self._config.mac_node)
                node_id = node["node_id"] if node else ""
            reg = regs.get(port_id)
            if await planner.sync_port(db, reg, body, node_id):
                keys.add(reg.network_id if reg is not None else body["vpc_id"])  # type: ignore[index]
                if reg is not None:
                    dropped.add(reg.network_id)
        return keys, dropped

    async def _reconcile_all(self) -> int:
        """Diff every network and port against what Zeta was told; return the cursor.

        Used on the first start with Zeta enabled (or after it was disabled). The cursor is
        taken before and stored after: changes during the reconciliation are read again
        (harmlessly), and a crash half-way leaves no cursor, so it starts over.
        """
        start = await feed.position(self._store)
        page = await self._bus.call(ListNetworks(ctx=admin_context(), query=ListQuery()))
        network_ids = {n["id"] for n in page.items}
        network_ids |= {g["network_id"] for g in await gw_repo.all_gateways(self._store)}
        ports = await self._bus.call(QueryPorts(fields=("id",)))
        port_ids = sorted({p["id"] for p in ports} | await gw_repo.registered_ids(self._store))
        async with self._store.transaction() as txn:
            await self._store.lock(LOCK)
            keys = await self._sync(sorted(network_ids), {})
            txn.after_commit.append(lambda: self._worker.poke(keys))
        for begin in range(0, len(port_ids), BATCH):
            async with self._store.transaction() as txn:
                await self._store.lock(LOCK)
                chunk = port_ids[begin : begin + BATCH]
                found = await self._bus.call(LookupPorts(ids=chunk))
                more = await self._sync([], {i: found.get(i) for i in chunk})  # ports only
                txn.after_commit.append(lambda k=more: self._worker.poke(k))  # type: ignore[misc]
        async with self._store.transaction():
            await self._store.lock(LOCK)
            # Another process may have finished its reconciliation first: keep its cursor.
            stored = await changes.consumer_seq(self._store, CONSUMER)
            if stored is None:
                await changes.advance_consumer(self._store, CONSUMER, start)
            start = start if stored is None else stored
        _LOGGER.info(
            "gateway: reconciled %d networks and %d ports with Zeta's registrations",
            len(network_ids),
            len(port_ids),
        )
        return start
