"""Subnet pool manager: pools of prefixes, and CIDR allocation from them."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.address_scope.messages import scope_lock
from alcor.managers.common import (
    RequestContext,
    bump,
    changed,
    check_create_project,
    check_restricted,
    check_write,
    deny,
    new_record,
)
from alcor.managers.crud import CreateCommand, DeleteCommand, UpdateCommand
from alcor.managers.generic import SharedCrudManager
from alcor.managers.ipnet import Network, collapse, exclude, within
from alcor.managers.network.messages import GetNetwork
from alcor.managers.rbac.messages import DeleteObjectPolicies
from alcor.managers.subnet.messages import SubnetsOfNetwork
from alcor.managers.subnetpool import repo as pool_repo
from alcor.managers.subnetpool.messages import (
    AllocateFromPool,
    CountPoolSubnets,
    CreateSubnetPools,
    DefaultSubnetPool,
    DeleteSubnetPool,
    EditSubnetPoolPrefixes,
    GetSubnetPool,
    ListSubnetPools,
    OnboardNetworkSubnets,
    PoolSubnetCidrs,
    PoolSubnetProjects,
    ScopePools,
    SetSubnetsPool,
    SubnetPoolChanged,
    UpdateSubnetPool,
    ViewSubnetPools,
)
from alcor.managers.subnetpool.scopes import (
    IllegalSubnetPoolUpdate,
    check_pool_update,
    check_scope,
)
from alcor.resources import repo
from alcor.resources.rbac import ACCESS_SHARED, WILDCARD, has_policy
from alcor.resources.subnetpool import SUBNETPOOL
from alcor.store import Store
from alcor.store.revisions import tombstone

PREFIXLENS = ("default_prefixlen", "min_prefixlen", "max_prefixlen")


class SubnetPoolInUse(errors.InUse):
    """Subnets were allocated from the pool."""

    message = "Unable to complete operation on subnet pool {subnet_pool_id}. {reason}."


def invalid(message: str) -> errors.InvalidInput:
    """Return InvalidInput with `message`."""
    return errors.InvalidInput(error_message=message)


class SubnetPoolManager(SharedCrudManager):
    """Create, read, update and delete subnet pools; allocate subnet CIDRs from them.

    Pools are shared through RBAC (rbac-subnetpool) and may belong to an address scope.
    """

    resource = SUBNETPOOL
    name = "subnetpool"
    object_type = "subnetpool"
    requires = ("store", "bus", "rbac")

    def __init__(self, bus: Bus, store: Store) -> None:
        super().__init__(bus, store)

    async def start(self) -> None:
        """Register the subnet pool commands."""
        self._bus.handle(CreateSubnetPools, self.create)
        self._bus.handle(GetSubnetPool, self.get)
        self._bus.handle(ViewSubnetPools, self.view)
        self._bus.handle(ListSubnetPools, self.list_visible)
        self._bus.handle(UpdateSubnetPool, self.update)
        self._bus.handle(DeleteSubnetPool, self.delete)
        self._bus.handle(AllocateFromPool, self._allocate)
        self._bus.handle(EditSubnetPoolPrefixes, self.edit_prefixes)
        self._bus.handle(DefaultSubnetPool, self._default)
        self._bus.handle(ScopePools, self._scope_pools)
        self._bus.handle(OnboardNetworkSubnets, self.onboard)
        await self.register_rbac()

    # ---- RBAC: who depends on a pool, who may get it ----------------------------------------
    async def bound_projects(self, obj: dict[str, Any]) -> set[str]:
        projects: set[str] = await self._bus.call(PoolSubnetProjects(pool_id=obj["id"]))
        return projects

    async def check_share_target(self, obj: dict[str, Any], target: str) -> None:
        """A pool is shared only with projects that may use its address scope."""
        scope_id = obj.get("address_scope_id")
        if scope_id is not None and not await has_policy(
            self._store, "address_scope", scope_id, ACCESS_SHARED, (target, WILDCARD)
        ):
            raise errors.InvalidInput(
                error_message="target project doesn't have access to associated address scope"
            )

    async def _scope_pools(self, cmd: ScopePools) -> list[dict[str, Any]]:
        return await repo.find(
            self._store,
            SUBNETPOOL,
            pool_repo.in_scope(cmd.address_scope_id),
            names=("id", "project_id", "prefixes", "address_scope_id"),
        )

    async def _check_scope(self, ctx: RequestContext, pool: dict[str, Any]) -> None:
        scope_id = pool.get("address_scope_id")
        if scope_id is not None:
            # No other process adds or widens a pool of the scope (nor deletes the scope)
            # between this read of its pools and this transaction's end.
            await self._store.lock(scope_lock(scope_id))
            others = await self._scope_pools(ScopePools(address_scope_id=scope_id))
            await check_scope(self._bus, ctx, pool, others)

    async def decorate(self, objs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Render the prefix lengths as Neutron does (strings)."""
        return [_public(o) for o in objs]

    # ---- create / update / delete ----------------------------------------------------------
    async def create(self, cmd: CreateCommand) -> list[dict[str, Any]]:
        """Create subnet pools."""
        out = []
        async with self._store.transaction():
            for item in cmd.items:
                check_create_project(cmd.ctx, item, "create_subnetpool")
                check_restricted(SUBNETPOOL, "create_subnetpool", item, cmd.ctx, creating=True)
                pool = await new_record(self._store, SUBNETPOOL, item, "Subnet pool")
                _normalize(pool)
                if pool["is_default"]:
                    await self._check_no_default(pool["ip_version"])
                await self._check_scope(cmd.ctx, pool)
                pool["tags"] = sorted(set(pool["tags"]))
                await repo.insert(self._store, SUBNETPOOL, pool)
                if pool["shared"]:
                    await self._set_wildcard(pool, True)
                self._bus.publish(SubnetPoolChanged(subnetpool=dict(pool)))
                out.append(pool)
        return await self.decorate(out)

    async def update(self, cmd: UpdateCommand) -> dict[str, Any]:
        """Update a subnet pool; prefixes may be added, never removed."""
        async with self._store.transaction():
            pool = await self.writable(
                cmd.ctx, cmd.id, "update_subnetpool", cmd.if_match, cmd.changes
            )
            given = self.given_changes(pool, cmd)
            merged = {**pool, **given}
            if "prefixes" in given:
                old = [ipaddress.ip_network(p) for p in pool["prefixes"]]
                new = [ipaddress.ip_network(p) for p in given["prefixes"]]
                if any(not any(within(o, n) for n in new) for o in old):
                    raise invalid("Existing prefixes must be a subset of the new prefixes")
            _normalize(merged, updating=True)
            if merged["is_default"] and not pool["is_default"]:
                await self._check_no_default(merged["ip_version"])
            diff = changed(pool, {k: merged[k] for k in given})
            await check_pool_update(self._bus, cmd.ctx, pool)
            if {"address_scope_id", "prefixes"} & diff.keys():
                await self._check_scope(cmd.ctx, merged)
            if diff:
                await repo.update(self._store, SUBNETPOOL, pool["id"], bump(pool, diff))
                self._bus.publish(SubnetPoolChanged(subnetpool=dict(pool)))
        return _public(pool)

    # ---- default pools (default-subnetpools) ------------------------------------------------
    async def _check_no_default(self, ip_version: int) -> None:
        """At most one default pool per IP version (Neutron's rule and message)."""
        # Another process's new default of the version waits until this transaction ends.
        await self._store.lock(f"subnetpool_default:{ip_version}")
        if await pool_repo.has_default(self._store, ip_version):
            raise invalid(
                "A default subnetpool for this IP family has already been set. Only "
                "one default may exist per IP family"
            )

    async def _default(self, cmd: DefaultSubnetPool) -> str:
        where = [
            pool_repo.default_of_version(cmd.ip_version),
            *self.visible_where(cmd.ctx),
        ]
        found = await repo.find(
            self._store,
            SUBNETPOOL,
            repo.all_of(where),
        )
        if not found:
            raise errors.BadRequest(
                resource="subnets", msg=f"No default subnetpool found for IPv{cmd.ip_version}"
            )
        pool_id: str = found[0]["id"]
        return pool_id

    async def edit_prefixes(self, cmd: EditSubnetPoolPrefixes) -> list[str]:
        """add_prefixes merges prefixes in; remove_prefixes takes address space out, unless a
        subnet of the pool lies in it (400). Removing space the pool lacks changes nothing."""
        action = "add_prefixes" if cmd.add else "remove_prefixes"
        async with self._store.transaction():
            pool = await self.get_visible(cmd.ctx, cmd.id)
            check_write(cmd.ctx, pool, action)
            if not cmd.prefixes:
                return list(pool["prefixes"])
            current = [ipaddress.ip_network(p) for p in pool["prefixes"]]
            given = [ipaddress.ip_network(p, strict=False) for p in cmd.prefixes]
            if cmd.add:
                await self._set_prefixes(cmd.ctx, pool, [*pool["prefixes"], *map(str, given)])
            else:
                if not any(c.overlaps(g) for c in current for g in given if c.version == g.version):
                    return list(pool["prefixes"])
                await self._hold_allocations(pool["id"])
                cidrs = await self._bus.call(PoolSubnetCidrs(pool_id=pool["id"]))
                if any(
                    ipaddress.ip_network(c).overlaps(g)
                    for c in cidrs
                    for g in given
                    if ipaddress.ip_network(c).version == g.version
                ):
                    raise errors.BadRequest(
                        resource="subnetpool",
                        msg=(
                            "Illegal update to prefixes: One or more the prefixes to be removed is "
                            "in use by a subnet"
                        ),
                    )
                left = _subtract(current, given)
                if not left:
                    raise invalid("A subnet pool needs at least one prefix")
                await self._set_prefixes(cmd.ctx, pool, [str(n) for n in left])
        return list(pool["prefixes"])

    async def _set_prefixes(
        self, ctx: RequestContext, pool: dict[str, Any], prefixes: list[str]
    ) -> None:
        """Write the pool's new prefixes (normalized) when they differ, within its scope."""
        merged = {**pool, "prefixes": prefixes}
        _normalize(merged, updating=True)
        diff = changed(pool, {"prefixes": merged["prefixes"]})
        if diff:
            await check_pool_update(self._bus, ctx, pool)
            await self._check_scope(ctx, merged)
            await repo.update(self._store, SUBNETPOOL, pool["id"], bump(pool, diff))
            self._bus.publish(SubnetPoolChanged(subnetpool=dict(pool)))

    async def _hold_allocations(self, pool_id: str) -> None:
        """Keep other processes from allocating subnets from the pool until this
        transaction ends: a subnet create holds this lock from its read of what the pool
        gave out to its insert (subnet/manager.py)."""
        await self._store.lock(f"subnetpool:{pool_id}")

    async def onboard(self, cmd: OnboardNetworkSubnets) -> list[dict[str, Any]]:
        """subnet_onboard: the network's subnets of the pool's IP version join the pool (their
        CIDRs become prefixes of it); one overlapping a subnet of the pool is refused (400).
        A member onboards the subnets of their own network into their own pool."""
        async with self._store.transaction():
            pool = await self.get_visible(cmd.ctx, cmd.id)
            check_write(cmd.ctx, pool, "onboard_network_subnets")
            network = await self._bus.call(GetNetwork(ctx=cmd.ctx, id=cmd.network_id))
            if not cmd.ctx.is_admin and network["project_id"] != cmd.ctx.caller.project_id:
                raise deny("onboard_network_subnets")
            subnets = [
                s
                for s in await self._bus.call(SubnetsOfNetwork(network_id=network["id"]))
                if s["ip_version"] == pool["ip_version"]
            ]
            await self._hold_allocations(pool["id"])
            taken = [
                ipaddress.ip_network(c)
                for c in await self._bus.call(PoolSubnetCidrs(pool_id=pool["id"]))
            ]
            for subnet in subnets:
                if any(ipaddress.ip_network(subnet["cidr"]).overlaps(t) for t in taken):
                    raise IllegalSubnetPoolUpdate(
                        reason=f"Onboarding subnet {subnet['id']}: {subnet['cidr']} conflicts "
                        f"with allocated prefixes in subnet pool {pool['id']}"
                    )
            await self._set_prefixes(
                cmd.ctx, pool, [*pool["prefixes"], *(s["cidr"] for s in subnets)]
            )
            await self._bus.call(
                SetSubnetsPool(subnet_ids=[s["id"] for s in subnets], pool_id=pool["id"])
            )
        return [{"id": s["id"], "cidr": s["cidr"]} for s in subnets]

    async def delete(self, cmd: DeleteCommand) -> None:
        """Delete a pool from which no subnet is allocated."""
        async with self._store.transaction():
            pool = await self.writable(cmd.ctx, cmd.id, "delete_subnetpool", cmd.if_match)
            await self._hold_allocations(pool["id"])
            if await self._bus.call(CountPoolSubnets(pool_id=pool["id"])):
                raise SubnetPoolInUse(
                    subnet_pool_id=pool["id"], reason="Subnets are allocated from it"
                )
            await self._bus.call(
                DeleteObjectPolicies(object_type="subnetpool", object_id=pool["id"])
            )
            await repo.delete(self._store, SUBNETPOOL, pool["id"])
            await tombstone(self._store, "subnetpool", pool)

    # ---- allocation ------------------------------------------------------------------------
    async def _allocate(self, cmd: AllocateFromPool) -> str:
        pool = await self.get_visible(cmd.ctx, cmd.pool_id)
        if cmd.ip_version is not None and cmd.ip_version != pool["ip_version"]:
            raise invalid(f"Subnet pool {pool['id']} has IP version {pool['ip_version']}")
        prefixes = sorted(
            (ipaddress.ip_network(p) for p in pool["prefixes"]),
            key=lambda n: (int(n.network_address), n.prefixlen),
        )
        taken = [ipaddress.ip_network(c) for c in cmd.taken]
        if cmd.cidr is not None:
            wanted = ipaddress.ip_network(cmd.cidr)
            _check_length(pool, wanted.prefixlen)
            if not any(within(wanted, p) for p in prefixes):
                raise invalid(
                    f"Cidr {wanted} is not within the prefixes of subnet pool {pool['id']}"
                )
            if any(wanted.overlaps(t) for t in taken):
                raise invalid(f"Cidr {wanted} overlaps a subnet of subnet pool {pool['id']}")
            return str(wanted)
        length = cmd.prefixlen if cmd.prefixlen is not None else pool["default_prefixlen"]
        _check_length(pool, length)
        for prefix in prefixes:
            found = _first_free(prefix, length, taken)
            if found is not None:
                return str(found)
        raise errors.Conflict(
            message=f"Unable to allocate a /{length} subnet from subnet pool "
            f"{pool['id']}: no free prefix"
        )


def _public(pool: dict[str, Any]) -> dict[str, Any]:
    """Return the API shape of a pool: its prefix lengths as strings, as Neutron's API has
    them (neutron-tempest-plugin compares them with the strings it sent). Stored as integers;
    filters and sorting still take integers."""
    return {**pool, **{key: str(pool[key]) for key in PREFIXLENS}}


def _normalize(pool: dict[str, Any], updating: bool = False) -> None:
    """Derive ip_version and the prefix lengths; check they fit the prefixes."""
    networks = [ipaddress.ip_network(p, strict=False) for p in pool["prefixes"]]
    versions = {n.version for n in networks}
    if len(versions) != 1:
        raise invalid("Subnet pool prefixes must all be of one IP version")
    version = versions.pop()
    pool["prefixes"] = [str(n) for n in collapse(networks)]
    pool["ip_version"] = version
    top = 32 if version == 4 else 128
    pool.setdefault("max_prefixlen", top)
    if pool.get("min_prefixlen") is None:
        pool["min_prefixlen"] = min(n.prefixlen for n in networks)
    if pool.get("default_prefixlen") is None:
        pool["default_prefixlen"] = pool["min_prefixlen"]
    low, default, high = pool["min_prefixlen"], pool["default_prefixlen"], pool["max_prefixlen"]
    if not 0 <= low <= default <= high <= top:
        raise invalid(
            f"Illegal prefix bounds: min_prefixlen {low}, default_prefixlen {default}, "
            f"max_prefixlen {high}"
        )


def _subtract(networks: list[Network], removed: list[Network]) -> list[Network]:
    """Return `networks` minus the address space of `removed`, collapsed."""
    left = list(networks)
    for gone in removed:
        kept: list[Network] = []
        for net in left:
            if net.version != gone.version or not net.overlaps(gone):
                kept.append(net)
            elif not within(net, gone):
                kept.extend(exclude(net, gone))
        left = kept
    return collapse(left)


def _check_length(pool: dict[str, Any], length: int) -> None:
    if not pool["min_prefixlen"] <= length <= pool["max_prefixlen"]:
        raise invalid(
            f"Prefix length {length} is outside [{pool['min_prefixlen']}, "
            f"{pool['max_prefixlen']}] of subnet pool {pool['id']}"
        )


def _first_free(prefix: Network, length: int, taken: list[Network]) -> Network | None:
    """Return the lowest /length inside `prefix` that overlaps nothing taken."""
    if length < prefix.prefixlen:
        return None
    size = 1 << (prefix.max_prefixlen - length)
    start, last = int(prefix.network_address), int(prefix.broadcast_address)
    cls = type(prefix)
    while start + size - 1 <= last:
        candidate = cls((start, length))
        clashes = [t for t in taken if t.overlaps(candidate)]
        if not clashes:
            return candidate
        end = max(int(t.broadcast_address) for t in clashes) + 1
        start = (end + size - 1) // size * size  # the next aligned block after the clash
    return None
