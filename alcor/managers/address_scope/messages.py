"""Address scope manager contract.

Southbound: routers forward between subnets of the same address scope without NAT and do
not route between different scopes (Neutron's rule). A subnet's scope is its subnet pool's
`address_scope_id`; SubnetPoolUpdated carries it, AddressScopeDeleted ends a scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Event
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
)


def scope_lock(scope_id: str) -> str:
    """Return the lock name of an address scope's pools (store.lock): held while a pool is
    checked against the scope's others and written, or while the scope is checked unused
    and deleted."""
    return f"address_scope:{scope_id}"


class CreateAddressScopes(CreateCommand):
    """Create address scopes."""


class GetAddressScope(GetCommand):
    """Return one visible address scope (404 otherwise)."""


class ListAddressScopes(ListCommand):
    """List visible address scopes."""


class UpdateAddressScope(UpdateCommand):
    """Rename or share an address scope (shared stays shared)."""


class DeleteAddressScope(DeleteCommand):
    """Delete an address scope no subnet pool belongs to."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressScopeDeleted(Event):
    """An address scope was deleted."""

    address_scope: dict[str, Any]
