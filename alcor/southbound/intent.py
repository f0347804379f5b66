"""Write-ahead intent: a port's own hosts' ledger rows, in the port's own transaction.

A port create, move, unbind or delete is the most frequent change that puts a state on a
host (PORT and DHCP) or takes one away. Writing those rows in the changing transaction
makes "the host may hold it" durable with the change itself, so the push that follows
needs no commit of its own (what the ledger must record before a push: engine._record_sending).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alcor.bus import Bus
from alcor.managers.port.messages import PortCreated, PortDeleted, PortUpdated
from alcor.southbound.ledger import Ledger
from alcor.southbound.topology import Topology
from alcor.southbound.view import DHCP, PORT, Key
from alcor.store import Store, current_transaction
from alcor.store.revisions import next_revision


class PortIntent:
    """Record, inside a port's transaction, which hosts will hold or drop its states."""

    def __init__(self, topo: Topology, ledger: Ledger, store: Store) -> None:
        self._topo = topo
        self._ledger = ledger
        self._store = store

    def subscribe(self, bus: Bus) -> list[Callable[[], None]]:
        """Register as an in-transaction writer of the port events."""
        return [
            bus.write_with(PortCreated, self._changed),
            bus.write_with(PortUpdated, self._changed),
            bus.write_with(PortDeleted, self._deleted),
        ]

    def _host(self, port: dict[str, Any] | None) -> str | None:
        """Return the node that programs `port` (bound, admin up), if it is registered."""
        if port is None or port.get("binding:vif_type") != "ovs":
            return None
        if not port.get("admin_state_up", True):
            return None
        return self._topo.node_by_name.get(port.get("binding:host_id") or "")

    async def _changed(self, event: PortCreated | PortUpdated) -> None:
        port = event.port
        old = self._host(getattr(event, "before", None))
        new = self._host(port)
        revision = port["revision_number"]
        if new is not None:
            await self._write(new, [(key, revision, True) for key in _keys(port["id"])])
        if old is not None and old != new:
            await self._write(old, [(key, revision, False) for key in _keys(port["id"])])

    async def _deleted(self, event: PortDeleted) -> None:
        port = event.port
        host = self._host(port)
        if host is not None:
            await self._write(
                host, [(key, next_revision(port), False) for key in _keys(port["id"])]
            )

    async def _write(self, node_id: str, states: list[tuple[Key, int, bool]]) -> None:
        txn = current_transaction()
        if txn is None:
            return
        txn.after_commit.append(await self._ledger.write_now(self._store, node_id, states))


def _keys(port_id: str) -> tuple[Key, Key]:
    return (PORT, port_id), (DHCP, port_id)
