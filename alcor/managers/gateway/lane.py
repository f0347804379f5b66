"""The gateway manager's side of the outbox worker: Zeta calls, then their bookkeeping."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from alcor.bus import Bus
from alcor.managers.gateway import planner
from alcor.managers.gateway import repo as gw_repo
from alcor.managers.gateway.messages import PORT_CREATE, VPC_CREATE, VPC_DELETE
from alcor.managers.gateway.state import GatewayState
from alcor.managers.gateway.worker import Result
from alcor.managers.gateway.zeta import Result as ZetaResult
from alcor.managers.gateway.zeta import ZetaCalls
from alcor.managers.network.messages import LookupNetwork
from alcor.store import Store, outbox
from alcor.store.outbox import Row

_LOGGER = logging.getLogger(__name__)


class ZetaLane:
    """Send a VPC's outbox rows to Zeta and settle what came back (worker.Sender)."""

    def __init__(self, bus: Bus, store: Store, calls: ZetaCalls, state: GatewayState) -> None:
        self._bus = bus
        self._store = store
        self._calls = calls
        self._state = state
        # VPCs where the last attempt saw Zeta act as if it had lost the VPC. One sighting
        # may be a passing failure; a second one, an attempt later, starts a re-creation.
        # Kept in memory: after a restart, detection takes one attempt more.
        self._suspect: set[str] = set()

    def take(self, rows: Sequence[Row]) -> list[Row]:
        """Return the head rows to send together."""
        return self._calls.take(rows)

    async def send(self, rows: Sequence[Row]) -> Result:
        """Make the calls of `rows`."""
        return await self._calls.send(rows)

    async def settle(self, rows: Sequence[Row], result: Result) -> None:
        """Apply the result to the gateway (inside the worker's settling transaction)."""
        db = self._store
        key = rows[0].key
        gateway = await gw_repo.gateway_of_network(db, key)
        if gateway is None:
            return
        head = rows[0]
        settled = await outbox.get(db, head.id)
        took = settled is not None and settled.outcome in ("sent", "found", "gone")
        if isinstance(result, ZetaResult):
            if head.kind == VPC_CREATE and took:
                await self._state.vpc_known(db, gateway, result.vpc)
            if head.kind == PORT_CREATE:
                await self._lost_or_well(gateway, result)
        if head.kind == VPC_DELETE and took and not head.payload.get("resync"):
            network = await self._bus.call(LookupNetwork(id=key))
            if network is None and not await outbox.lane(db, key, 1):
                await self._state.removed(db, gateway)
                return
        quiet = gateway["status"] == "READY" and gateway["last_error"] is None
        if quiet and head.kind == PORT_CREATE and len(result.done) == len(rows):
            return  # all sent into a healthy lane: nothing about the gateway changed
        await self._state.refresh(db, gateway)

    async def _lost_or_well(self, gateway: dict[str, Any], result: ZetaResult) -> None:
        key = gateway["network_id"]
        if not result.lost_signal:
            if result.done:
                self._suspect.discard(key)
            return
        if key not in self._suspect:
            self._suspect.add(key)
            return
        self._suspect.discard(key)
        network = await self._bus.call(LookupNetwork(id=key))
        if network is None or not planner.wants_gateway(network):
            return
        _LOGGER.warning("zeta lost VPC %s: deleting its stale rows and creating it again", key)
        await planner.resync(self._store, gateway, network["provider:segmentation_id"])
