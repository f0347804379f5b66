"""Subnet pool manager contract."""

from __future__ import annotations

from dataclasses import dataclass

from alcor.bus import Command
from alcor.managers.common import RequestContext
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
    ViewCommand,
)


class CreateSubnetPools(CreateCommand):
    """Create subnet pools."""


class GetSubnetPool(GetCommand):
    """Return one visible subnet pool."""


class ViewSubnetPools(ViewCommand):
    """Show stored subnet pools (change record objects) as GetSubnetPool would, if visible."""


class ListSubnetPools(ListCommand):
    """List visible subnet pools."""


class UpdateSubnetPool(UpdateCommand):
    """Update a subnet pool (prefixes may only grow)."""


class DeleteSubnetPool(DeleteCommand):
    """Delete an unused subnet pool."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocateFromPool(Command[str]):
    """Choose (or check) a subnet CIDR inside a pool; `taken` are the pool's subnets."""

    ctx: RequestContext
    pool_id: str
    ip_version: int | None
    cidr: str | None
    prefixlen: int | None
    taken: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class CountPoolSubnets(Command[int]):
    """Return how many subnets were allocated from a pool (answered by the subnet manager)."""

    pool_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSubnetCidrs(Command[list[str]]):
    """Return the CIDRs of the subnets allocated from a pool (answered by the subnet manager)."""

    pool_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EditSubnetPoolPrefixes(Command[list[str]]):
    """add_prefixes / remove_prefixes (subnetpool-prefix-ops); return the pool's prefixes."""

    ctx: RequestContext
    id: str
    prefixes: list[str]
    add: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultSubnetPool(Command[str]):
    """Return the id of the default pool of `ip_version` visible to `ctx` (400 when none)."""

    ctx: RequestContext
    ip_version: int
