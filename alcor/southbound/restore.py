"""Resume every host after a start: what it may hold (ledger), what it should hold (view).

Whatever happened before the start (a clean stop, or kill -9 before a push, in the middle
of one, or before a reply was recorded), the host ends with exactly its view:

* every ledger row is a state the host may hold: re-sent if wanted and not acked at the
  current revision, deleted if no longer wanted;
* neighbors have no rows (their volume is hosts x ports): a host that was idle through
  the newest change at the last stop (its cursor) holds exactly its view's neighbors;
  any other host may hold a neighbor of any port of the VPCs it was given (ledger VPC
  rows), or of a port of those VPCs deleted after its cursor (change record): all of
  them are marked, and the builder sends what is wanted and deletes the rest.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from alcor.southbound.delivery import REFUSED_NAMES, Delivery, Refusal
from alcor.southbound.ledger import HostLedger
from alcor.southbound.sender import HostSender
from alcor.southbound.view import NEIGHBOR, VPC, Key, all_keys, neighbor_key
from alcor.store import changes, feed
from alcor.store.changes import Change
from alcor.store.revisions import next_revision

if TYPE_CHECKING:
    from alcor.southbound.engine import SouthboundEngine

_LOGGER = logging.getLogger(__name__)


class Restorer:
    """Rebuild each host's delivery state from its durable ledger at engine start."""

    def __init__(self, engine: SouthboundEngine, loaded: dict[str, HostLedger], seq: int) -> None:
        self._engine = engine
        self._loaded = loaded
        self._seq = seq
        self._ports_of: dict[str, list[str]] | None = None
        self._deleted: dict[str, list[tuple[Change, int]]] | None = None

    async def host(self, sender: HostSender) -> None:
        """Restore one host's delivery and mark what it must receive."""
        engine = self._engine
        delivery = sender.delivery
        node_id = delivery.node_id
        wanted = list(all_keys(engine.topo, engine.planner.view(node_id)))
        durable = self._loaded.get(node_id, HostLedger())
        for key, row in durable.rows.items():
            delivery.sent[key] = (row.rev, row.present)
            if row.acked_rev is not None and row.present:  # a DELETE was on its way
                delivery.acked[key] = row.acked_rev
            if row.status in REFUSED_NAMES and row.acked_rev != row.rev:
                delivery.refused[key] = Refusal(
                    row.rev, row.status or "", row.last_error or "", row.attempts
                )
        in_sync = durable.cursor is not None and durable.cursor >= self._seq
        if in_sync:
            self._trust_neighbors(delivery, wanted)
        elif durable.rows:
            await self._suspect_neighbors(delivery, durable)
        builder = engine.builder
        wanted_set = set(wanted)
        for key in wanted:
            revision = builder.revision(*key)
            if revision is None or not delivery.holds(key, revision):
                delivery.pending[key] = None
        for key in delivery.sent:
            if key not in wanted_set:  # may hold, no longer wanted: delete it
                delivery.pending[key] = None

    def _trust_neighbors(self, delivery: Delivery, wanted: list[Key]) -> None:
        """The host was idle through the newest change: it holds its view's neighbors."""
        builder = self._engine.builder
        for key in wanted:
            if key[0] == NEIGHBOR:
                revision = builder.revision(*key)
                if revision is not None:
                    delivery.sent[key] = (revision, True)
                    delivery.acked[key] = revision

    async def _suspect_neighbors(self, delivery: Delivery, durable: HostLedger) -> None:
        """Mark as may-hold every neighbor of the host's VPCs and of ports deleted since."""
        engine = self._engine
        vpcs = {key for kind, key in durable.rows if kind == VPC}
        ports_of = self._ports_by_network()
        for vpc in vpcs:
            for port_id in ports_of.get(vpc, ()):
                key = (NEIGHBOR, neighbor_key(port_id))
                revision = engine.builder.revision(*key)
                if revision is not None:
                    delivery.sent.setdefault(key, (revision, True))
        for vpc in vpcs:
            for change, tomb in (await self._deleted_ports()).get(vpc, ()):
                if durable.cursor is None or feed.is_after(engine.store, change, durable.cursor):
                    key = (NEIGHBOR, neighbor_key(change.id))
                    engine.tombs[key] = tomb
                    delivery.sent.setdefault(key, (tomb, True))

    def _ports_by_network(self) -> dict[str, list[str]]:
        if self._ports_of is None:
            index: dict[str, list[str]] = defaultdict(list)
            for port in self._engine.topo.ports.values():
                index[port.network_id].append(port.id)
            self._ports_of = index
        return self._ports_of

    async def _deleted_ports(self) -> dict[str, list[tuple[Change, int]]]:
        """Return network -> [(change, neighbor tombstone)] of retained port deletes."""
        if self._deleted is None:
            cursors = [h.cursor for h in self._loaded.values() if h.rows]
            after = min((c or 0 for c in cursors), default=0)
            db = self._engine.store
            oldest = await changes.oldest_seq(db)
            if db.dialect == "sqlite" and oldest is not None and after + 1 < oldest:
                _LOGGER.warning(
                    "a host's delivery cursor (%d) is older than the change record (%d): "
                    "ports deleted before that may stay on it until an audit repairs it",
                    after,
                    oldest,
                )
            index: dict[str, list[tuple[Change, int]]] = defaultdict(list)
            reader = feed.Reader(db, after, ["port"], page=10_000)
            for change in await reader.read_all():
                if change.type == "DELETED":
                    obj = change.object
                    field = (
                        "neighbor_revision" if obj.get("neighbor_revision") else "revision_number"
                    )
                    index[obj["network_id"]].append((change, next_revision(obj, field)))
            self._deleted = index
        return self._deleted
