"""Subnet manager: owns subnets, their gateway MAC and (through IPAM) their pools."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import SubnetConfig
from alcor.managers.acl.messages import DetachSubnetFromAcls
from alcor.managers.base import ResourceManager
from alcor.managers.common import (
    RequestContext,
    bump,
    changed,
    check_create_project,
    deny,
    new_record,
    subnet_mtu_minimum,
)
from alcor.managers.ipam.messages import (
    DropSubnet,
    IpAllocated,
    SetSubnetPools,
    SubnetAllocations,
)
from alcor.managers.mac.messages import AllocateMac, ReleaseMac
from alcor.managers.network.messages import (
    GetNetwork,
    LookupNetwork,
    LookupSegment,
    SetNetworkSubnets,
    segment_lock,
)
from alcor.managers.port.messages import AddAutoAddresses, LookupPorts, RemoveSubnetAddresses
from alcor.managers.quota.messages import CheckQuota, RegisterUsageCounter
from alcor.managers.subnet import repo as subnet_repo
from alcor.managers.subnet import validation as v
from alcor.managers.subnet.messages import (
    CreateSubnets,
    DeleteNetworkSubnets,
    DeleteSubnet,
    GetSubnet,
    ListSubnets,
    LookupSubnets,
    SetAttachedRouter,
    SubnetCreated,
    SubnetDeleted,
    SubnetsOfNetwork,
    SubnetUpdated,
    UpdateSubnet,
    ViewSubnets,
    subnets_lock,
)
from alcor.managers.subnetpool.messages import (
    AllocateFromPool,
    CountPoolSubnets,
    DefaultSubnetPool,
    PoolSubnetCidrs,
    PoolSubnetProjects,
    SetSubnetsPool,
)
from alcor.resources import repo
from alcor.resources.repo import Where
from alcor.resources.segment import (
    NetworkIdsDontMatch,
    SegmentNotFound,
    SubnetsNotAllAssociatedWithSegments,
)
from alcor.resources.subnet import SUBNET
from alcor.resources.types import Bool, Invalid
from alcor.store import Store
from alcor.store.revisions import tombstone

_LOGGER = logging.getLogger(__name__)
repo.register_extra_columns(SUBNET, ("seq", "gateway_mac"))
IN_USE = "One or more ports have an IP allocation from this subnet"


class SubnetManager(ResourceManager):
    """Create, read, update and delete subnets."""

    resource = SUBNET
    name = "subnet"
    requires = ("store", "bus", "network", "ipam", "mac", "quota")

    def __init__(self, bus: Bus, store: Store, config: SubnetConfig) -> None:
        super().__init__(bus, store)
        self._config = config

    async def start(self) -> None:
        """Register the subnet commands."""
        self._bus.handle(CreateSubnets, self.create)
        self._bus.handle(GetSubnet, self.get)
        self._bus.handle(ViewSubnets, self.view)
        self._bus.handle(ListSubnets, self.list_visible)
        self._bus.handle(UpdateSubnet, self.update)
        self._bus.handle(DeleteSubnet, self.delete)
        self._bus.handle(SubnetsOfNetwork, self._of_network)
        self._bus.handle(LookupSubnets, self._lookup_many)
        self._bus.handle(DeleteNetworkSubnets, self._delete_of_network)
        self._bus.handle(SetAttachedRouter, self._set_router)
        self._bus.handle(CountPoolSubnets, self._count_pool_subnets)
        self._bus.handle(PoolSubnetCidrs, self._pool_subnet_cidrs)
        self._bus.handle(PoolSubnetProjects, self._pool_subnet_projects)
        self._bus.handle(SetSubnetsPool, self._set_pool)
        await self._bus.call(
            RegisterUsageCounter(resource="subnet", counter=repo.usage_counter(SUBNET))
        )

    # ---- visibility: own, or on a shared/external network ------------------------------
    def visible_where(self, ctx: RequestContext) -> list[Where]:
        if ctx.view_project is None:
            return []
        # Subnets of an external network are not readable by other projects (only the
        # network is); those of a shared network are (Tempest's visibility tests), and so are
        # those of a network an RBAC policy shares with the project.
        return [subnet_repo.own_or_on_shared_network(ctx.view_project)]

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        if ctx.view_project is None or obj["project_id"] == ctx.view_project:
            return True
        return await subnet_repo.on_network_shared_with(self._store, obj["id"], ctx.view_project)

    def extra_where(self, extra: dict[str, list[str]]) -> list[Where]:
        """`shared=true|false`: the subnet's network is (not) shared (repeated = OR)."""
        values = extra.get("shared")
        if not values:
            return []
        wanted = set()
        for raw in values:
            try:
                wanted.add(Bool().convert(raw))
            except Invalid:
                raise errors.HTTPBadRequest(
                    msg=f"Invalid input for shared. Reason: '{raw}' cannot be converted to boolean."
                ) from None
        if len(wanted) == 2:
            return []
        return [subnet_repo.on_network_shared(wanted.pop())]

    async def decorate(self, objs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Hide the internal columns."""
        for obj in objs:
            obj.pop("seq", None)
        return list(objs)

    async def _of_network(self, cmd: SubnetsOfNetwork) -> list[dict[str, Any]]:
        return await repo.find(
            self._store, SUBNET, repo.equals("network_id", cmd.network_id), order="t.seq"
        )

    async def _lookup_many(self, cmd: LookupSubnets) -> dict[str, dict[str, Any]]:
        return await repo.get_many(self._store, SUBNET, cmd.ids)

    # ---- create ------------------------------------------------------------------------
    async def create(self, cmd: CreateSubnets) -> list[dict[str, Any]]:
        """Create subnets in one transaction."""
        out = []
        async with self._store.transaction():
            # The checks read the network (its MTU) and its other subnets (overlap, segments
            # or none): another process's new subnet of the network, or MTU change, waits
            # until this transaction ends. Not network:<id>, which port creates hold shared.
            for network_id in sorted({item["network_id"] for item in cmd.items}):
                await self._store.lock(subnets_lock(network_id))
            prepared = []
            for item in cmd.items:
                project = check_create_project(cmd.ctx, item, "create_subnet")
                network = await self._bus.call(GetNetwork(ctx=cmd.ctx, id=item["network_id"]))
                if network["project_id"] != project and not cmd.ctx.is_admin:
                    raise deny("create_subnet")
                prepared.append((item, network))
            counts: dict[str, int] = {}
            for item, _ in prepared:
                counts[item["project_id"]] = counts.get(item["project_id"], 0) + 1
            for project, count in counts.items():
                await self._bus.call(CheckQuota(project_id=project, resource="subnet", count=count))
            for item, network in prepared:
                out.append(await self._create_one(item, network, cmd.ctx))
        return await self.decorate(out)

    async def _check_segment(self, subnet: dict[str, Any], network: dict[str, Any]) -> None:
        """segment: a subnet's segment is one of its network's, and a network's subnets are
        all on segments or none is."""
        if subnet["segment_id"] is not None:
            # Kept from deletion by another process until this transaction ends.
            await self._store.lock(segment_lock(subnet["segment_id"]), shared=True)
            segment = await self._bus.call(LookupSegment(id=subnet["segment_id"]))
            if segment is None:
                raise SegmentNotFound(id=subnet["segment_id"])
            if segment["network_id"] != network["id"]:
                raise NetworkIdsDontMatch(
                    subnet_network=network["id"], segment_id=subnet["segment_id"]
                )
        if await subnet_repo.has_other_kind(
            self._store, network["id"], subnet["segment_id"] is None
        ):
            raise SubnetsNotAllAssociatedWithSegments(network_id=network["id"])

    async def _default_pool(self, ctx: RequestContext, subnet: dict[str, Any]) -> str:
        """use_default_subnetpool: the default pool of the subnet's IP version (Neutron's
        default-subnetpools rules and messages)."""
        if subnet.get("subnetpool_id") not in (None, ""):
            raise errors.BadRequest(
                resource="subnets",
                msg="subnetpool_id and use_default_subnetpool cannot both be specified",
            )
        if subnet.get("cidr") is not None:
            version = ipaddress.ip_network(subnet["cidr"], strict=False).version
        elif subnet.get("ip_version") is not None:
            version = subnet["ip_version"]
        else:
            raise errors.BadRequest(
                resource="subnets",
                msg="ip_version must be specified in the absence of cidr and subnetpool_id",
            )
        return await self._bus.call(DefaultSubnetPool(ctx=ctx, ip_version=version))

    async def _pool_cidrs(self, pool_id: str) -> list[str]:
        return await subnet_repo.cidrs_of_pool(self._store, pool_id)

    async def _count_pool_subnets(self, cmd: CountPoolSubnets) -> int:
        return len(await self._pool_cidrs(cmd.pool_id))

    async def _pool_subnet_cidrs(self, cmd: PoolSubnetCidrs) -> list[str]:
        return await self._pool_cidrs(cmd.pool_id)

    async def _pool_subnet_projects(self, cmd: PoolSubnetProjects) -> set[str]:
        return await subnet_repo.projects_of_pool(self._store, cmd.pool_id)

    async def _create_one(
        self, given: dict[str, Any], network: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        db = self._store
        subnet = await new_record(db, SUBNET, given, "Subnet")
        await self._check_segment(subnet, network)
        if subnet.pop("use_default_subnetpool", False):
            subnet["subnetpool_id"] = await self._default_pool(ctx, subnet)
        v.check_cidr_source(subnet)
        if subnet["subnetpool_id"] is not None:
            # What the pool has given out must not change under us (another process).
            await self._store.lock(f"subnetpool:{subnet['subnetpool_id']}")
            subnet["cidr"] = await self._bus.call(
                AllocateFromPool(
                    ctx=ctx,
                    pool_id=subnet["subnetpool_id"],
                    ip_version=given.get("ip_version"),
                    cidr=given.get("cidr"),
                    prefixlen=subnet.pop("prefixlen", None),
                    taken=await self._pool_cidrs(subnet["subnetpool_id"]),
                )
            )
        cidr = v.check_cidr(subnet)
        subnet["cidr"] = str(cidr)
        others = await self._bus.call(SubnetsOfNetwork(network_id=network["id"]))
        v.check_overlap(cidr, others, network.get("cidr"))
        needed = subnet_mtu_minimum([{"ip_version": cidr.version}])
        if network["mtu"] < needed:  # 409 as Neutron; the spec had 400 (network manager)
            raise errors.NetworkMTUSubnetConflict(net_id=network["id"], mtu=needed)
        if "gateway_ip" not in given:
            subnet["gateway_ip"] = v.default_gateway(cidr)
        v.check_gateway(cidr, subnet["gateway_ip"])
        if "allocation_pools" in given:
            v.check_pools(cidr, subnet["allocation_pools"], subnet["gateway_ip"])
        else:
            subnet["allocation_pools"] = v.default_pools(cidr, subnet["gateway_ip"])
        v.check_lists(subnet["id"], cidr, subnet, self._config)
        v.check_ipv6_modes(cidr, subnet, subnet["enable_dhcp"])
        subnet.update(
            {
                "tags": sorted(set(subnet["tags"])),
                "attached_router_id": None,
                "attached_router_ids": [],
                "seq": await subnet_repo.next_seq(db),
            }
        )
        subnet["gateway_mac"] = await self._bus.call(
            AllocateMac(network_id=network["id"], owner=f"subnet:{subnet['id']}")
        )
        await repo.insert(db, SUBNET, subnet)
        await self._bus.call(SetSubnetPools(subnet=subnet))
        await self._bus.call(SetNetworkSubnets(network_id=network["id"], add=subnet["id"]))
        if subnet["ip_version"] == 6 and subnet["ipv6_address_mode"] in v.AUTO_MODES:
            await self._bus.call(AddAutoAddresses(subnet=subnet))
        self._bus.publish(SubnetCreated(subnet=subnet))
        return subnet

    # ---- update ------------------------------------------------------------------------
    async def update(self, cmd: UpdateSubnet) -> dict[str, Any]:
        """Update a subnet (partial)."""
        async with self._store.transaction():
            subnet = await self.writable(cmd.ctx, cmd.id, "update_subnet", cmd.if_match)
            given = self.given_changes(subnet, cmd)
            diff = changed(subnet, given)
            if not diff:
                return (await self.decorate([subnet]))[0]
            await self._check_update(subnet, diff)
            await repo.update(self._store, SUBNET, subnet["id"], bump(subnet, diff))
            if "allocation_pools" in diff:
                await self._bus.call(SetSubnetPools(subnet=subnet))
            self._bus.publish(SubnetUpdated(subnet=subnet, changed=frozenset(diff)))
        return (await self.decorate([subnet]))[0]

    async def _check_update(self, subnet: dict[str, Any], diff: dict[str, Any]) -> None:
        cidr = ipaddress.ip_network(subnet["cidr"])
        gateway = diff.get("gateway_ip", subnet["gateway_ip"])
        if "gateway_ip" in diff:
            v.check_gateway(cidr, gateway)
            await self._check_gateway_change(subnet, gateway)
        if "allocation_pools" in diff or "gateway_ip" in diff:
            v.check_pools(cidr, diff.get("allocation_pools", subnet["allocation_pools"]), gateway)
        v.check_lists(subnet["id"], cidr, diff, self._config)
        if diff.get("enable_dhcp") is False and (
            subnet["ipv6_address_mode"] or subnet["ipv6_ra_mode"]
        ):
            raise v.invalid(
                "ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False"
            )

    async def _check_gateway_change(self, subnet: dict[str, Any], gateway: str | None) -> None:
        old = subnet["gateway_ip"]
        if old is not None:
            holder = await self._bus.call(IpAllocated(subnet_id=subnet["id"], ip=old))
            if holder is not None:
                port = (await self._bus.call(LookupPorts(ids=[holder]))).get(holder)
                if port and port["device_owner"].startswith("network:router"):
                    raise errors.GatewayIpInUse(ip_address=old, port_id=holder)
        if (
            gateway is not None
            and await self._bus.call(IpAllocated(subnet_id=subnet["id"], ip=gateway)) is not None
        ):
            raise errors.IpAddressAlreadyAllocated(ip=gateway, subnet_id=subnet["id"])

    async def _set_router(self, cmd: SetAttachedRouter) -> dict[str, Any]:
        subnet = await self.lookup(cmd.subnet_id)
        if subnet is None:
            raise errors.SubnetNotFound(id=cmd.subnet_id)
        routers = [r for r in subnet["attached_router_ids"] if r != cmd.router_id]
        if cmd.attached and cmd.router_id is not None:
            routers.append(cmd.router_id)
        changes = {
            "attached_router_ids": routers,
            "attached_router_id": routers[0] if routers else None,
        }
        await repo.update(self._store, SUBNET, subnet["id"], bump(subnet, changes))
        self._bus.publish(SubnetUpdated(subnet=subnet, changed=frozenset(changes)))
        return subnet

    async def _set_pool(self, cmd: SetSubnetsPool) -> None:
        for subnet in (await repo.get_many(self._store, SUBNET, cmd.subnet_ids)).values():
            changes = changed(subnet, {"subnetpool_id": cmd.pool_id})
            if changes:
                await repo.update(self._store, SUBNET, subnet["id"], bump(subnet, changes))
                self._bus.publish(SubnetUpdated(subnet=subnet, changed=frozenset(changes)))

    # ---- delete ------------------------------------------------------------------------
    async def delete(self, cmd: DeleteSubnet) -> None:
        """Delete a subnet whose addresses are only automatic or DHCP ones."""
        async with self._store.transaction():
            subnet = await self.writable(cmd.ctx, cmd.id, "delete_subnet", cmd.if_match)
            # No port may take an address in it meanwhile: ports are created and given
            # addresses under their network's lock, held shared (port/create.py).
            await self._store.lock(f"network:{subnet['network_id']}")
            allocations = await self._bus.call(SubnetAllocations(subnet_id=subnet["id"]))
            holders = await self._bus.call(
                LookupPorts(ids=[a["port_id"] for a in allocations if not a["auto"]])
            )
            if any(p["device_owner"] != "network:dhcp" for p in holders.values()):
                raise errors.SubnetInUse(subnet_id=subnet["id"], reason=IN_USE)
            await self._remove(subnet)

    async def _delete_of_network(self, cmd: DeleteNetworkSubnets) -> None:
        for subnet in await self._of_network(SubnetsOfNetwork(network_id=cmd.network_id)):
            await self._remove(subnet, network_going=True)

    async def _remove(self, subnet: dict[str, Any], network_going: bool = False) -> None:
        db = self._store
        await self._bus.call(RemoveSubnetAddresses(subnet_id=subnet["id"]))
        await self._bus.call(DropSubnet(subnet_id=subnet["id"]))
        await self._bus.call(
            ReleaseMac(
                network_id=subnet["network_id"],
                mac=subnet["gateway_mac"],
                owner=f"subnet:{subnet['id']}",
            )
        )
        await self._bus.call(DetachSubnetFromAcls(subnet_id=subnet["id"]))
        if not network_going:
            await self._bus.call(
                SetNetworkSubnets(network_id=subnet["network_id"], remove=subnet["id"])
            )
        await repo.delete(db, SUBNET, subnet["id"])
        await tombstone(db, "subnet", subnet)
        self._bus.publish(SubnetDeleted(subnet=subnet))


__all__ = ["LookupNetwork", "SubnetManager"]
