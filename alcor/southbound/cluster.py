"""The southbound of one process among several on one PostgreSQL database.

* It follows the change record (alcor/store/feed.py, by commit windows) instead of its own
  in-process events, so it learns the other processes' changes exactly as its own.
* It delivers only to the hosts it owns (alcor/southbound/ownership.py). When members come
  or go it lets go of the hosts it lost at once and, after a handover delay that gives the
  previous owner a heartbeat to let go, takes over the hosts it gained by restoring each
  from the durable ledger, exactly as a restart does (alcor/southbound/restore.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from alcor.config import ClusterConfig
from alcor.lifecycle import cancel
from alcor.southbound.feed_intake import FeedIntake
from alcor.southbound.ownership import Membership
from alcor.store import feed

if TYPE_CHECKING:
    from alcor.southbound.engine import SouthboundEngine

_LOGGER = logging.getLogger(__name__)


class Partition:
    """Membership, host ownership and the change-record follower of one process."""

    def __init__(
        self, engine: SouthboundEngine, config: ClusterConfig, membership: Membership
    ) -> None:
        self._dp = engine
        self._config = config
        # Started before the engine and stopped after it (a component of its own, shared
        # with the gateway manager's outbox lanes).
        self.membership = membership
        membership.listen(self._members_changed)
        self.intake = FeedIntake(engine)
        self._reader: feed.Reader | None = None
        self._applied = 0  # the position through which every change has been applied
        self._read = asyncio.Event()  # set after each page is applied
        self._rebalance = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def position(self) -> int:
        """Return the position through which the record has been applied."""
        return self._applied

    def owns(self, key: str) -> bool:
        """Tell whether this process acts for `key` (a node id, or another shared key)."""
        return self.membership.owns(key)

    def join(self, position: int) -> None:
        """Follow the record from `position` once started."""
        self._reader = feed.Reader(self._dp.store, position)
        self._applied = position

    def start(self) -> None:
        """Start following the record and rebalancing."""
        for coro, name in (
            (self._follow(), "southbound-follow-changes"),
            (self._rebalancer(), "southbound-rebalance"),
        ):
            task = asyncio.create_task(coro, name=name)
            self._tasks.add(task)

    async def stop(self) -> None:
        """Stop following (the membership, stopped after the engine, lets the hosts go)."""
        for task in self._tasks:
            await cancel(task)
        self._tasks.clear()

    # ---- following the change record -------------------------------------------------
    async def _follow(self) -> None:
        reader = self._reader
        assert reader is not None
        store = self._dp.store
        while True:
            try:
                page = await reader.read()
            except Exception as exc:  # the database is away: retry at the poll interval
                _LOGGER.warning("reading the change record failed: %s", exc)
                await asyncio.sleep(self._config.poll_s)
                continue
            if page:
                position = None if reader.in_window else reader.position
                await self._dp.apply_changes(page, position)
            if not reader.in_window:
                self._applied = reader.position
            self._read.set()
            self._read = asyncio.Event()
            if not page:
                await store.wait_for_change(reader.position, timeout=self._config.poll_s)

    async def caught_up(self) -> None:
        """Wait until every change committed before this call has been applied."""
        target = await feed.horizon(self._dp.store)
        while self._applied < target:
            await self._read.wait()

    # ---- ownership -------------------------------------------------------------------
    def _members_changed(self) -> None:
        self._rebalance.set()

    async def _rebalancer(self) -> None:
        while True:
            await self._rebalance.wait()
            self._rebalance.clear()
            try:
                await self._apply_ownership()
            except Exception:
                _LOGGER.exception("moving hosts between processes failed; retrying")
                await asyncio.sleep(self._config.heartbeat_s)
                self._rebalance.set()

    async def _apply_ownership(self) -> None:
        dp = self._dp
        wanted = {node_id for node_id in dp.topo.nodes if self.owns(node_id)}
        for node_id in set(dp.senders) - wanted:
            await dp.release_node(node_id)
        if not wanted - set(dp.senders):
            return
        # The previous owner lets go at its next heartbeat: give it that time.
        await asyncio.sleep(2 * self._config.heartbeat_s)
        gained = [n for n in dp.topo.nodes if self.owns(n) and n not in dp.senders]
        if gained:
            _LOGGER.info("taking over %d hosts: %s", len(gained), ", ".join(sorted(gained)))
            await dp.adopt_nodes(gained)
