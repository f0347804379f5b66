"""Network manager contract: commands and events."""

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


def segment_lock(segment_id: str) -> str:
    """Return the lock name of a segment's subnets (store.lock): held shared while a subnet
    on the segment is created, exclusively while the segment is checked unused and
    deleted."""
    return f"segment:{segment_id}"


class CreateNetworks(CreateCommand):
    """Create networks (bulk: all or nothing)."""


class GetNetwork(GetCommand):
    """Return one visible network."""


class ViewNetworks(ViewCommand):
    """Show stored networks (change record objects) as GetNetwork would, if visible."""


class ListNetworks(ListCommand):
    """List visible networks."""


class UpdateNetwork(UpdateCommand):
    """Update a network."""


class DeleteNetwork(DeleteCommand):
    """Delete a network and its subnets."""


class CreateNetworkSegmentRanges(CreateCommand):
    """Create network segment ranges (admin)."""


class GetNetworkSegmentRange(GetCommand):
    """Return one network segment range (admin)."""


class ListNetworkSegmentRanges(ListCommand):
    """List network segment ranges (admin)."""


class UpdateNetworkSegmentRange(UpdateCommand):
    """Update a range that is not a default one (admin)."""


class DeleteNetworkSegmentRange(DeleteCommand):
    """Delete a range that is not a default one and holds no network's id (admin)."""


class CreateSegments(CreateCommand):
    """Create segments on networks (admin)."""


class GetSegment(GetCommand):
    """Return one segment (admin)."""


class ListSegments(ListCommand):
    """List segments (admin)."""


class UpdateSegment(UpdateCommand):
    """Rename or describe a segment (admin)."""


class DeleteSegment(DeleteCommand):
    """Delete a segment without subnets that is not its network's last (admin)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupSegment(Command[dict[str, Any] | None]):
    """Return a segment by id (internal), or None."""

    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultExternalNetwork(Command[str | None]):
    """Return the id of the default external network (is_default), or None."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupNetwork(Command[dict[str, Any] | None]):
    """Return a network by id regardless of visibility (internal), or None."""

    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetNetworkSubnets(Command[None]):
    """Record a subnet added to or removed from a network (bumps its revision)."""

    network_id: str
    add: str | None = None
    remove: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SetNetworkGateways(Command[None]):
    """Record the ids of the network's READY gateways (bumps its revision when they change).

    The VPC's goal state carries them as `gateway_ids` (southbound spec §8.3). An unknown
    network is ignored: the gateway outlives its network only while Zeta forgets the VPC.
    """

    network_id: str
    gateway_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkCreated(Event):
    """A network was committed."""

    network: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkUpdated(Event):
    """A network's attributes changed."""

    network: dict[str, Any]
    changed: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkDeleted(Event):
    """A network was deleted."""

    network: dict[str, Any]
