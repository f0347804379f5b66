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


def subnets_lock(network_id: str) -> str:
    """Return the lock name of a network's subnets (store.lock): held from before a new
    subnet's network is read (its MTU) and its checks against the network's other subnets
    to the transaction's end, and by an MTU change while it reads the subnets."""
    return f"network_subnets:{network_id}"


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
    """Record that a router got (`attached`) or lost an interface on a subnet.

    A subnet may be on several routers (attached_router_ids, in attach order);
    attached_router_id stays the first of them, which is what the southbound reads.
    """

    subnet_id: str
    router_id: str | None
    attached: bool = True


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
