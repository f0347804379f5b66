"""Port forwarding manager contract.

Southbound: each port forwarding is a DNAT on the router that connects the internal port's
subnet to the floating IP's network (`router_id`): packets to floating_ip_address at
external_port_range of `protocol` go to internal_ip_address at internal_port_range (same
length), and replies are SNATed back. PortForwardingChanged / PortForwardingDeleted carry
the forwarding with `floating_ip_address` and `router_id`.
"""

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
)


class CreatePortForwardings(CreateCommand):
    """Create port forwardings on a floating IP (`parent`)."""


class GetPortForwarding(GetCommand):
    """Return one port forwarding of a visible floating IP."""


class ListPortForwardings(ListCommand):
    """List the port forwardings of a visible floating IP."""


class UpdatePortForwarding(UpdateCommand):
    """Change a port forwarding."""


class DeletePortForwarding(DeleteCommand):
    """Delete a port forwarding."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FipPortForwardings(Command[dict[str, list[dict[str, Any]]]]):
    """Return {floating IP id: its port forwardings} for the given floating IPs."""

    fip_ids: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class AllPortForwardings(Command[list[dict[str, Any]]]):
    """Return every port forwarding with its internal columns (internal: the southbound)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PortForwardingChanged(Event):
    """A port forwarding was created or changed."""

    port_forwarding: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class PortForwardingDeleted(Event):
    """A port forwarding was deleted."""

    port_forwarding: dict[str, Any]
