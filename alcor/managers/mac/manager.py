"""MAC manager: generated MACs from a prefix, unique everywhere; given ones unique per network."""

from __future__ import annotations

import secrets

from alcor import errors
from alcor.bus import Bus
from alcor.config import PortConfig
from alcor.managers.mac.messages import AllocateMac, ReleaseMac, ReleaseNetworkMacs
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
        self._bus.handle(ReleaseMac, self._release)
        self._bus.handle(ReleaseNetworkMacs, self._release_network)

    async def stop(self) -> None:
        """Own nothing."""

    def generate(self) -> str:
        """Return a random MAC with the configured prefix."""
        tail = secrets.token_bytes(self._random_octets)
        return ":".join([self._prefix, *(f"{b:02x}" for b in tail)])

    async def _allocate(self, cmd: AllocateMac) -> str:
        db = self._store.db
        if cmd.mac is not None:
            if db.execute("SELECT 1 FROM macs WHERE network_id = ? AND mac = ?",
                          [cmd.network_id, cmd.mac]).fetchone():
                raise errors.MacAddressInUse(net_id=cmd.network_id, mac=cmd.mac)
            mac = cmd.mac
        else:
            mac = self._unique(db, cmd.network_id)
        db.execute("INSERT INTO macs (network_id, mac, owner) VALUES (?, ?, ?)",
                   [cmd.network_id, mac, cmd.owner])
        return mac

    def _unique(self, db, network_id: str) -> str:
        for _ in range(MAX_TRIES):
            mac = self.generate()
            if not db.execute("SELECT 1 FROM macs WHERE mac = ?", [mac]).fetchone():
                return mac
        raise errors.MacAddressGenerationFailure(net_id=network_id)

    async def _release(self, cmd: ReleaseMac) -> None:
        self._store.db.execute("DELETE FROM macs WHERE network_id = ? AND mac = ? AND owner = ?",
                               [cmd.network_id, cmd.mac, cmd.owner])

    async def _release_network(self, cmd: ReleaseNetworkMacs) -> None:
        self._store.db.execute("DELETE FROM macs WHERE network_id = ?", [cmd.network_id])
