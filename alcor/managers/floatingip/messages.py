"""Floating IP manager contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Command, Event
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
    ViewCommand,
)


class CreateFloatingIps(CreateCommand):
    """Allocate floating IPs."""


class GetFloatingIp(GetCommand):
    """Return one visible floating IP."""


class ViewFloatingIps(ViewCommand):
    """Show stored floating IPs (change record objects) as GetFloatingIp would, if visible."""


class ListFloatingIps(ListCommand):
    """List visible floating IPs."""


class UpdateFloatingIp(UpdateCommand):
    """Associate/disassociate a floating IP."""


class DeleteFloatingIp(DeleteCommand):
    """Release a floating IP."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DisassociatePort(Command[None]):
    """Disassociate every floating IP of a port that is being deleted."""

    port_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteNetworkFloatingIps(Command[None]):
    """Release every floating IP allocated from an external network being deleted."""

    network_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FloatingIpsOfRouter(Command[list[dict[str, Any]]]):
    """Return the floating IPs associated through a router (internal)."""

    router_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FloatingIpChanged(Event):
    """A floating IP was created, changed or deleted (`deleted`)."""

    floatingip: dict[str, Any]
    before: dict[str, Any] | None = None
    deleted: bool = False
