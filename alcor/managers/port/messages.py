"""Port manager contract."""

from __future__ import annotations

from dataclasses import dataclass, field
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


class CreatePorts(CreateCommand):
    """Create ports (bulk: all or nothing)."""


class GetPort(GetCommand):
    """Return one visible port."""


class ViewPorts(ViewCommand):
    """Show stored ports (change record objects) as GetPort would, if visible."""


class ListPorts(ListCommand):
    """List visible ports."""


class UpdatePort(UpdateCommand):
    """Update a port (partial; fixed_ips given = the complete new list)."""


class DeletePort(DeleteCommand):
    """Delete a port (not router or floating IP ports)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdatePorts(Command[list[dict[str, Any]]]):
    """Native bulk update: each item as a single PUT, all or nothing."""

    ctx: Any
    items: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueryPorts(Command[list[dict[str, Any]]]):
    """Return ports matching simple internal criteria (no visibility rules)."""

    network_id: str | None = None
    device_id: str | None = None
    device_owner: str | None = None
    device_owner_prefix: str | None = None
    subnet_id: str | None = None
    host_id: str | None = None
    not_project: str | None = None
    security_group_id: str | None = None
    limit: int | None = None
    fields: tuple[str, ...] | None = None  # only these attributes (a lean bulk read)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateServicePort(Command[dict[str, Any]]):
    """Create a port owned by a router or floating IP (internal; no quota refusal).

    `fixed_ips` follows the port rules. `mac_address` is borrowed, not allocated: the
    interface port of a subnet uses the subnet's gateway MAC. Counted by quota, never refused.
    """

    network_id: str
    project_id: str
    device_owner: str
    device_id: str
    fixed_ips: list[dict[str, Any]] | None = None
    mac_address: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SetServicePort(Command[dict[str, Any]]):
    """Turn an existing port into a router interface / clear it (internal). `revision`:
    the port's revision the caller checked it at (another process's change since then
    runs the request again)."""

    port_id: str
    changes: dict[str, Any] = field(default_factory=dict)
    revision: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteServicePort(Command[None]):
    """Delete a router or floating IP port (internal)."""

    port_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddAutoAddresses(Command[None]):
    """Give every eligible port of a network an EUI-64 address on a new auto subnet."""

    subnet: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveSubnetAddresses(Command[None]):
    """Drop a deleted subnet's automatic addresses from ports (bumping their revisions)."""

    subnet_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BumpNeighbors(Command[None]):
    """Increase neighbor_revision of ports (router interface or node changes)."""

    port_ids: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class SetPortStatus(Command[None]):
    """Set server-maintained port status (not revisioned).

    Each status names the port revision it was decided for (a host acknowledged that
    revision): it is written only while the port is still at it, so an answer about a
    revision the port has since left (moved to another host, updated) changes nothing.
    """

    statuses: dict[str, tuple[str, int]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RebindHost(Command[list[str]]):
    """Re-evaluate the binding of every port whose binding:host_id is `host` (node change)."""

    host: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetSubports(Command[None]):
    """Make ports a trunk's subports, or release them (internal; the trunk manager's).

    Attached: device_owner "trunk:subport", device_id the trunk, and the parent port's
    binding (host, vif type and details), as Neutron binds subports on the parent's host.
    Released: device owner and id cleared, unbound. Each changed port is bumped and
    announced (PortUpdated) in the caller's transaction.
    """

    trunk_id: str
    parent_id: str
    port_ids: list[str]
    attach: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PortCreated(Event):
    """A port was committed."""

    port: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class PortUpdated(Event):
    """A port changed; `before` is its previous state."""

    port: dict[str, Any]
    before: dict[str, Any]
    changed: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class PortDeleted(Event):
    """A port was deleted."""

    port: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class PortStatusChanged(Event):
    """A port's status changed (feeds Nova-style vif-plugged notifications)."""

    port_id: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupPorts(Command[dict[str, dict[str, Any]]]):
    """Return {id: port} for the ids that exist (internal, no visibility)."""

    ids: list[str]
