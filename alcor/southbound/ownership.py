"""Which process delivers to which host, when several alcor processes share one database.

Every process has a row in `cluster_members` and renews its heartbeat there (the
database's clock, so process clocks may differ). A member is live while its heartbeat is
younger than `dead_after_s`. Each host is owned by exactly one live member, chosen by
rendezvous hashing (highest hash of member + host, as Neutron's ovn_hash_ring does): when a
member comes or goes only the hosts it gains or loses move, and every process computes the
same owners from the same member list without talking to the others.

A process that cannot renew its heartbeat gives up every host before the others may
consider it dead (after `dead_after_s - heartbeat_s` without a renewal), so two processes
never push to one host at once; it takes them back once a heartbeat succeeds again.
With one process (SQLite, or `cluster.enabled = false`) it owns every host.

The same membership assigns the Zeta outbox's lanes (alcor/managers/gateway/worker.py):
it is a component of its own, started before and stopped after everything that owns
something through it, so a process never acts for a key once the others may take it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable

from alcor.config import ClusterConfig
from alcor.lifecycle import cancel
from alcor.store import Store

_LOGGER = logging.getLogger(__name__)
_NOW = "EXTRACT(EPOCH FROM clock_timestamp())"


def rank(member_id: str, node_id: str) -> int:
    """Return the rendezvous weight of a member for a host."""
    digest = hashlib.blake2b(f"{member_id}\x00{node_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner_of(node_id: str, members: Iterable[str]) -> str | None:
    """Return the member that owns `node_id` among `members` (None when there is none)."""
    return max(members, key=lambda member: rank(member, node_id), default=None)


class Membership:
    """This process's row in `cluster_members`, its heartbeat, and the live members."""

    name = "cluster"
    requires = ("store",)

    def __init__(self, store: Store, config: ClusterConfig, address: str = "") -> None:
        self._store = store
        self._config = config
        self._listeners: list[Callable[[], None]] = []
        self.member_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._address = address
        self.live: tuple[str, ...] = ()
        self._renewed_at = 0.0  # monotonic time of the last successful heartbeat
        self._gave_up = False  # every host was given up for want of a heartbeat
        self._task: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool:
        """Tell whether the last heartbeat is recent enough to keep owning hosts."""
        grace = self._config.dead_after_s - self._config.heartbeat_s
        return time.monotonic() - self._renewed_at < grace

    def owns(self, node_id: str) -> bool:
        """Tell whether this process delivers to `node_id` (or acts for another key) now."""
        return self.healthy and owner_of(node_id, self.live) == self.member_id

    def listen(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever the live members change or this process gives up."""
        self._listeners.append(callback)

    def _on_change(self) -> None:
        for callback in self._listeners:
            callback()

    async def start(self) -> None:
        """Join (the first heartbeat must succeed) and keep renewing in the background."""
        await self._beat()
        self._task = asyncio.create_task(self._run(), name="cluster-heartbeat")

    async def stop(self) -> None:
        """Stop renewing and leave, so the others take the hosts over at once."""
        await cancel(self._task)
        self._task = None
        with contextlib.suppress(Exception):
            async with self._store.transaction():
                await self._store.execute(
                    "DELETE FROM cluster_members WHERE member_id = ?", [self.member_id]
                )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._config.heartbeat_s)
            try:
                await self._beat()
            except Exception as exc:  # the database is away: keep trying, give hosts up
                _LOGGER.warning("cluster heartbeat failed: %s", exc)
            if not self.healthy and not self._gave_up:
                _LOGGER.warning("no heartbeat for too long: giving up every host")
                self._gave_up = True
                self._on_change()

    async def _beat(self) -> None:
        """Renew this member's heartbeat and read the live members."""
        store, config = self._store, self._config
        async with store.transaction():
            await store.execute(
                "INSERT INTO cluster_members (member_id, address, started_at, heartbeat_at) "
                f"VALUES (?, ?, {_NOW}, {_NOW}) ON CONFLICT (member_id) "
                "DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                [self.member_id, self._address],
            )
            # Rows of members long dead are of no use to anyone.
            await store.execute(
                f"DELETE FROM cluster_members WHERE heartbeat_at < {_NOW} - ?",
                [config.dead_after_s * 10],
            )
            rows = await store.fetch(
                f"SELECT member_id FROM cluster_members WHERE heartbeat_at > {_NOW} - ? "
                "ORDER BY member_id",
                [config.dead_after_s],
            )
        self._renewed_at = time.monotonic()
        live = tuple(row[0] for row in rows)
        if live != self.live or self._gave_up:
            self._gave_up = False
            _LOGGER.info("cluster members: %s (this one: %s)", ", ".join(live), self.member_id)
            self.live = live
            self._on_change()
