"""Gateway manager: one Zeta gateway per VXLAN network while `zeta.enabled`.

Where and why: a manager package like the others (messages.py is its contract, the
boundary test covers it, lifecycle orders it after network, port and node), rather than
the top-level alcor/gateway/ sketched in architecture.md. Its parts:

* consumer.py reads the change record and writes outbox rows (planner.py decides which);
* worker.py sends them, one FIFO lane per VPC; lane.py and zeta.py are the Zeta side,
  through a ZetaApi (the HTTP edge, alcor/gateway/client.py, is passed in by app.py);
  with several processes on one database each lane is worked by the process that owns
  its VPC (the cluster membership, passed in by app.py as an `Ownership`);
* state.py keeps the gateway rows (status, what Zeta answered) and announces changes.

The API never waits on Zeta: network and port writes only commit change rows; everything
else happens afterwards, in this manager's own transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine, Sequence
from typing import Any

from alcor.bus import Bus
from alcor.config import ZetaConfig
from alcor.managers.base import ResourceManager
from alcor.managers.gateway import repo as gw_repo
from alcor.managers.gateway.consumer import CONSUMER, ChangeConsumer
from alcor.managers.gateway.lane import ZetaLane
from alcor.managers.gateway.messages import (
    GatewayRecord,
    GatewaysOfNetwork,
    GetGateway,
    ListGateways,
    ViewGateways,
)
from alcor.managers.gateway.state import GatewayState
from alcor.managers.gateway.worker import OutboxWorker, Ownership
from alcor.managers.gateway.zeta import ZetaApi, ZetaCalls
from alcor.priority import background
from alcor.resources.gateway import GATEWAY
from alcor.store import Store, changes, outbox

_LOGGER = logging.getLogger(__name__)
PRUNE_INTERVAL_S = 60.0


class GatewayManager(ResourceManager):
    """Gateways: read API, and their registration at Zeta through the outbox."""

    resource = GATEWAY
    name = "gateway"
    requires: tuple[str, ...] = ("store", "bus", "network", "port", "node")

    def __init__(
        self,
        bus: Bus,
        store: Store,
        config: ZetaConfig,
        retention_s: float,
        client: ZetaApi,
        ownership: Ownership | None = None,
        poll_s: float = 0.5,
    ) -> None:
        super().__init__(bus, store)
        if ownership is not None:  # several processes: lanes are owned through it
            self.requires = (*self.requires, ownership.name)
        self._config = config
        self._retention = retention_s  # settled outbox rows are kept as long as changes
        self._state = GatewayState(bus, config.alarm_after)
        self._client = client
        lane = ZetaLane(bus, store, ZetaCalls(self._client, config.port_batch), self._state)
        self.worker = OutboxWorker(
            store,
            lane,
            read_limit=config.port_batch,
            parallel=config.parallel_vpcs,
            retry_base_s=config.retry_base_s,
            retry_cap_s=config.retry_cap_s,
            linger_s=config.linger_s,
            ownership=ownership,
            poll_s=poll_s,
            drain_s=config.timeout_s,
        )
        shared = ownership is not None
        self._consumer = ChangeConsumer(bus, store, config, self._state, self.worker, shared)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Serve reads; with Zeta enabled, catch up on the change record and start sending."""
        self._bus.handle(GetGateway, self.get)
        self._bus.handle(ListGateways, self.list_visible)
        self._bus.handle(ViewGateways, self.view)
        self._bus.handle(GatewaysOfNetwork, self._of_network)
        if not self._config.enabled:
            # Not reading: the change record must not keep changes for this reader. When
            # Zeta is enabled again, everything is reconciled from the current state.
            async with self._store.transaction():
                await changes.remove_consumer(self._store, CONSUMER)
            return
        with background():  # reading changes and calling the gateway: the API goes first
            await self._client.start()
            await self._consumer.catch_up()
            await self.worker.start()
            self._spawn(self._consumer.run(), "gateway-changes")
            self._spawn(self._prune_loop(), "gateway-outbox-prune")

    async def stop(self) -> None:
        """Stop reading and sending; unsettled calls are retried (probed) next start."""
        for task in self._tasks:
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.worker.stop()
        await self._client.stop()

    @property
    def caught_up(self) -> bool:
        """Return True when every committed change has become outbox rows (Zeta enabled)."""
        return self._consumer.caught_up

    @property
    def unread_changes(self) -> int:
        """Return the committed changes not yet read (0 with Zeta disabled)."""
        return self._consumer.unread if self._config.enabled else 0

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.add(asyncio.create_task(coro, name=name))

    # ---- reads -------------------------------------------------------------------------
    async def decorate(self, objs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add the state of each gateway's outbox rows."""
        lanes = await outbox.lane_summary(self._store, [o["network_id"] for o in objs])
        out = []
        for obj in objs:
            lane = lanes.get(obj["network_id"], {})
            last = lane.get("last_attempt_at")
            out.append(
                {
                    **obj,
                    "pending_operations": lane.get("pending_operations", 0),
                    "attempts": lane.get("attempts", 0),
                    "last_attempt_at": _iso(last) if last is not None else None,
                }
            )
        return out

    async def _of_network(self, cmd: GatewaysOfNetwork) -> list[GatewayRecord]:
        gateway = await gw_repo.gateway_of_network(self._store, cmd.network_id)
        if gateway is None or gateway["zgc_id"] is None or gateway["status"] == "DELETING":
            return []
        return [GatewayRecord.of(gateway)]

    async def _prune_loop(self) -> None:
        while True:
            await asyncio.sleep(PRUNE_INTERVAL_S)
            while True:
                async with self._store.transaction():
                    pruned = await outbox.prune_done(self._store, time.time() - self._retention)
                if pruned < 5000:
                    break


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
