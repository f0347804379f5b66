"""Floating IP manager (placeholder until the L3 work lands): port disassociation hook."""

from __future__ import annotations

from alcor.bus import Bus
from alcor.managers.floatingip.messages import DisassociatePort
from alcor.store import Store


class FloatingIpManager:
    """Floating IPs."""

    name = "floatingip"
    requires = ("store", "bus")

    def __init__(self, bus: Bus, store: Store) -> None:
        self._bus = bus
        self._store = store

    async def start(self) -> None:
        """Register handlers."""
        self._bus.handle(DisassociatePort, self._disassociate)

    async def stop(self) -> None:
        """Own nothing."""

    async def _disassociate(self, cmd: DisassociatePort) -> None:
        return None
