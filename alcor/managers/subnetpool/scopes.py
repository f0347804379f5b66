"""Address scope rules of subnet pools (Neutron's _validate_address_scope_id)."""

from __future__ import annotations

import ipaddress
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.address_scope.messages import GetAddressScope
from alcor.managers.common import RequestContext, admin_context


class IllegalSubnetPoolUpdate(errors.BadRequest):
    """A pool in a scope the caller does not own cannot change."""

    message = "Illegal subnetpool update : {reason}."


class IllegalSubnetPoolIpVersionAssociationToAddressScope(errors.BadRequest):
    """A pool and its scope have one IP version."""

    message = (
        "Illegal subnetpool association: subnetpool {subnetpool_id} cannot associate with "
        "address scope {address_scope_id} because subnetpool ip_version is not {ip_version}."
    )


class AddressScopePrefixConflict(errors.Conflict):
    """Pools of one scope do not overlap."""

    message = (
        "Failed to associate address scope: subnetpools within an address scope must have "
        "unique prefixes."
    )


async def check_scope(
    bus: Bus, ctx: RequestContext, pool: dict[str, Any], others: list[dict[str, Any]]
) -> None:
    """Check that `pool` may be in its address scope, whose other pools are `others`.

    The scope must be visible to the caller (404: owned or shared with it), of the pool's
    IP version (400), and the pools of one scope must not overlap (409).
    """
    scope_id = pool.get("address_scope_id")
    if scope_id is None:
        return
    scope = await bus.call(GetAddressScope(ctx=ctx, id=scope_id))
    if scope["ip_version"] != pool["ip_version"]:
        raise IllegalSubnetPoolIpVersionAssociationToAddressScope(
            subnetpool_id=pool["id"], address_scope_id=scope_id, ip_version=scope["ip_version"]
        )
    mine = [ipaddress.ip_network(p) for p in pool["prefixes"]]
    for other in others:
        if other["id"] == pool["id"]:
            continue
        theirs = [ipaddress.ip_network(p) for p in other["prefixes"]]
        if any(a.overlaps(b) for a in mine for b in theirs if a.version == b.version):
            raise AddressScopePrefixConflict()


async def check_pool_update(bus: Bus, ctx: RequestContext, pool: dict[str, Any]) -> None:
    """A pool in an address scope the caller does not own cannot be changed (unless admin)."""
    scope_id = pool.get("address_scope_id")
    if scope_id is None or ctx.is_admin:
        return
    scope = await bus.call(GetAddressScope(ctx=admin_context(), id=scope_id))
    if scope["project_id"] != ctx.caller.project_id:
        raise IllegalSubnetPoolUpdate(
            reason=f"subnetpool {pool['id']} cannot be updated when associated with shared "
            f"address scope {scope_id}"
        )
