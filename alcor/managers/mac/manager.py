"""MAC manager: generated MACs from a prefix, unique everywhere; given ones unique per network."""

from __future__ import annotations

from alcor import errors
from alcor.bus import Bus
from alcor.config import PortConfig
from alcor.managers.common import random_bytes
from alcor.managers.mac import repo
from alcor.managers.mac.messages import (
    AllocateMac,
    AllocateMacs,
    ReleaseMac,
    ReleaseNetworkMacs,
)
from alcor.store import Store

MAX_TRIES = 16


class MacManager:
    """Allocate and release MAC addresses (inside the caller's transaction)."""

    name = "mac"
    requires = ("store", "bus")

    def __init__(self, bus: Bus, store: Store, config: PortConfig) -> None:
        self._bus = bus
        self._store = store
        self._prefix = config.mac_prefix.lower()
        self._random_octets = 6 - len(self._prefix.split(":"))

    async def start(self) -> None:
        """Register the MAC commands."""
        self._bus.handle(AllocateMac, self._allocate)
        self._bus.handle(AllocateMacs, self._allocate_many)
        self._bus.handle(ReleaseMac, self._release)
        self._bus.handle(ReleaseNetworkMacs, self._release_network)

    async def stop(self) -> None:
        """Own nothing."""

    def generate(self) -> str:
        """Return a random MAC with the configured prefix."""
        tail = random_bytes(self._random_octets)
        return ":".join([self._prefix, *(f"{b:02x}" for b in tail)])

    async def _allocate(self, cmd: AllocateMac) -> str:
        db = self._store
        if cmd.mac is not None:
            if await repo.in_use_on_network(db, cmd.network_id, cmd.mac):
                raise errors.MacAddressInUse(net_id=cmd.network_id, mac=cmd.mac)
            await repo.insert(db, cmd.network_id, cmd.mac, cmd.owner, auto=False)
            return cmd.mac
        mac = await self._unique(db, cmd.network_id)
        await repo.insert(db, cmd.network_id, mac, cmd.owner, auto=True)
        return mac

    async def _unique(self, db: Store, network_id: str) -> str:
        for _ in range(MAX_TRIES):
            mac = self.generate()
            if not await repo.in_use(db, mac):
                return mac
        raise errors.MacAddressGenerationFailure(net_id=network_id)

    async def _allocate_many(self, cmd: AllocateMacs) -> list[str]:
        db = self._store
        chosen: list[str] = []
        taken: set[str] = set()
        for _ in range(MAX_TRIES):
            wanted = len(cmd.owners) - len(chosen)
            if wanted == 0:
                break
            candidates = {self.generate() for _ in range(wanted)} - taken
            taken.update(await repo.taken_of(db, candidates))
            fresh = [m for m in candidates if m not in taken]
            chosen.extend(fresh[:wanted])
            taken.update(fresh)
        if len(chosen) < len(cmd.owners):
            raise errors.MacAddressGenerationFailure(net_id=cmd.network_id)
        await repo.insert_many(db, cmd.network_id, chosen, cmd.owners)
        return chosen

    async def _release(self, cmd: ReleaseMac) -> None:
        await repo.delete(self._store, cmd.network_id, cmd.mac, cmd.owner)

    async def _release_network(self, cmd: ReleaseNetworkMacs) -> None:
        await repo.delete_network(self._store, cmd.network_id)
