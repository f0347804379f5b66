"""Subnet manager contract."""

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


class CreateSubnets(CreateCommand):
    """Create subnets (bulk: all or nothing)."""


class GetSubnet(GetCommand):
    """Return one visible subnet."""


class ViewSubnets(ViewCommand):
    """Show stored subnets (change record objects) as GetSubnet would, if visible."""


class ListSubnets(ListCommand):
    """List visible subnets."""


class UpdateSubnet(UpdateCommand):
    """Update a subnet."""


class DeleteSubnet(DeleteCommand):
    """Delete a subnet."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SubnetsOfNetwork(Command[list[dict[str, Any]]]):
    """Return a network's subnets in creation order (internal, no visibility)."""

    network_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupSubnets(Command[dict[str, dict[str, Any]]]):
    """Return {id: subnet} for the given ids that exist (internal)."""

    ids: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteNetworkSubnets(Command[None]):
    """Delete every subnet of a network that is being deleted (inside its transaction)."""

    network_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAttachedRouter(Command[dict[str, Any]]):
    """Set or clear a subnet's attached_router_id (router interface add/remove)."""

    subnet_id: str
    router_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubnetCreated(Event):
    """A subnet was committed."""

    subnet: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class SubnetUpdated(Event):
    """A subnet's attributes changed."""

    subnet: dict[str, Any]
    changed: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class SubnetDeleted(Event):
    """A subnet was deleted."""

    subnet: dict[str, Any]
