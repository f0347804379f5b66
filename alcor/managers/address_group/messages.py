"""Address group manager contract.

Southbound: a security group rule with remote_address_group_id matches the group's
`addresses` (each CIDR of the rule's ethertype). AddressGroupChanged carries the group
after every change of its addresses, so hosts holding rules that refer to it refresh them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Command, Event
from alcor.managers.common import RequestContext
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
)


def address_group_lock(group_id: str) -> str:
    """Return the lock name of an address group's rules (store.lock): held shared while a
    security group rule naming the group is created, exclusively while the group is
    checked unused and deleted."""
    return f"address_group:{group_id}"


class CreateAddressGroups(CreateCommand):
    """Create address groups."""


class GetAddressGroup(GetCommand):
    """Return one visible address group."""


class ListAddressGroups(ListCommand):
    """List visible address groups."""


class UpdateAddressGroup(UpdateCommand):
    """Rename or re-describe an address group (its owner only)."""


class DeleteAddressGroup(DeleteCommand):
    """Delete an address group no rule uses."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EditAddresses(Command[dict[str, Any]]):
    """add_addresses / remove_addresses; return the group."""

    ctx: RequestContext
    id: str
    addresses: list[str]
    add: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressGroupChanged(Event):
    """A group was created or its addresses changed."""

    address_group: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressGroupDeleted(Event):
    """A group was deleted."""

    address_group: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupAddressGroups(Command[dict[str, list[str]]]):
    """Return {id: addresses} of existing address groups (internal: the southbound)."""

    ids: list[str]
