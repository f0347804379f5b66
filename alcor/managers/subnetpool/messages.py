"""Subnet pool manager contract."""

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
class OnboardNetworkSubnets(Command[list[dict[str, Any]]]):
    """onboard_network_subnets (subnet_onboard): move the network's subnets of the pool's IP
    version into the pool, their CIDRs into its prefixes; return [{id, cidr}]."""

    ctx: RequestContext
    id: str
    network_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetSubnetsPool(Command[None]):
    """Record that `subnet_ids` are allocated from `pool_id` (answered by the subnet manager)."""

    subnet_ids: list[str]
    pool_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultSubnetPool(Command[str]):
    """Return the id of the default pool of `ip_version` visible to `ctx` (400 when none)."""

    ctx: RequestContext
    ip_version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSubnetProjects(Command[set[str]]):
    """Return the projects of the subnets allocated from a pool (answered by the subnet
    manager): they keep their access to a pool an RBAC policy shares."""

    pool_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopePools(Command[list[dict[str, Any]]]):
    """Return the pools (id, project_id, prefixes) in an address scope."""

    address_scope_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubnetPoolChanged(Event):
    """A pool was created or changed (prefixes, address scope, ...).

    Southbound: a subnet's address scope is its pool's `address_scope_id`; routers do not
    route between subnets of different scopes without NAT.
    """

    subnetpool: dict[str, Any]
