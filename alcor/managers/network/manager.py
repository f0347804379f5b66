"""Network manager: owns networks (VPCs) and their segmentation ids."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import NetworkConfig
from alcor.managers.acl.messages import DeleteNetworkAcls
from alcor.managers.base import ResourceManager
from alcor.managers.common import (
    RequestContext,
    bump,
    changed,
    check_create_project,
    check_restricted,
    new_record,
    subnet_mtu_minimum,
    zones_of,
)
from alcor.managers.floatingip.messages import DeleteNetworkFloatingIps
from alcor.managers.network import repo as network_repo
from alcor.managers.network import segments
from alcor.managers.network.messages import (
    CreateNetworks,
    CreateNetworkSegmentRanges,
    CreateSegments,
    DefaultExternalNetwork,
    DeleteNetwork,
    DeleteNetworkSegmentRange,
    DeleteSegment,
    GetNetwork,
    GetNetworkSegmentRange,
    GetSegment,
    ListNetworks,
    ListNetworkSegmentRanges,
    ListSegments,
    LookupNetwork,
    LookupSegment,
    NetworkCreated,
    NetworkDeleted,
    NetworkUpdated,
    SetNetworkGateways,
    SetNetworkSubnets,
    UpdateNetwork,
    UpdateNetworkSegmentRange,
    UpdateSegment,
    ViewNetworks,
)
from alcor.managers.network.network_segments import (
    PROVIDER_KEYS,
    NetworkSegments,
    as_provider,
    shaped,
)
from alcor.managers.network.segment_ranges import SegmentRanges
from alcor.managers.port.messages import DeleteServicePort, QueryPorts
from alcor.managers.qos.messages import CheckQosPolicy, CheckQosPolicyRemoval, DefaultQosPolicy
from alcor.managers.quota.messages import CheckQuota, RegisterUsageCounter
from alcor.managers.rbac.messages import (
    DeleteObjectPolicies,
    RbacObjectType,
    RegisterRbacObject,
    SetWildcardPolicy,
)
from alcor.managers.router.messages import LookupRouters
from alcor.managers.security_group.messages import EnsureDefaultSecurityGroup
from alcor.managers.subnet.messages import DeleteNetworkSubnets, SubnetsOfNetwork, subnets_lock
from alcor.resources import repo
from alcor.resources.network import NETWORK
from alcor.resources.rbac import (
    ACCESS_EXTERNAL,
    ACCESS_SHARED,
    WILDCARD,
    RbacPolicyInUse,
    has_policy,
    mark_shared,
    shared_filter,
)
from alcor.resources.repo import ListQuery, Where
from alcor.store import Store
from alcor.store.revisions import tombstone

_LOGGER = logging.getLogger(__name__)
# The ids of the network's READY gateways (internal, not an API attribute): the VPC goal
# state carries them (southbound spec §8.3). NULL on networks that never had one.
repo.register_extra_columns(NETWORK, ("gateway_ids",), json_columns=("gateway_ids",))
AUTO_DELETED = ("network:dhcp", "network:floatingip")
OVERHEAD = {"vxlan": 50, "geneve": 50, "gre": 42, "vlan": 0, "flat": 0}
PROVIDER = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")
# Attributes that are really RBAC policies: shared = a `*` access_as_shared policy,
# router:external = any access_as_external policy (Neutron's model).
RBAC_FLAGS = {"shared": ACCESS_SHARED, "router:external": ACCESS_EXTERNAL}


class NetworkManager(ResourceManager):
    """Create, read, update and delete networks."""

    resource = NETWORK
    name = "network"
    requires = ("store", "bus", "quota", "rbac")

    def __init__(self, bus: Bus, store: Store, config: NetworkConfig) -> None:
        super().__init__(bus, store)
        self._config = config
        self._ranges = SegmentRanges(bus, store, config)
        self._segments = NetworkSegments(bus, store, config, self._ranges)

    async def start(self) -> None:
        """Register handlers and rebuild the segment pools from config and the ranges."""
        async with self._store.transaction():
            # Processes starting together on one database check, then write the defaults:
            # one at a time (the next one finds them there). Rebuilding the pools also locks
            # each, so no network takes or gives back an id meanwhile.
            await self._store.lock(segments.RANGES_LOCK)
            await self._ranges.sync_defaults()
            await segments.rebuild_pools(
                self._store, self._config, await self._ranges.added_bounds()
            )
        self._bus.handle(CreateNetworkSegmentRanges, self._ranges.create)
        self._bus.handle(GetNetworkSegmentRange, self._ranges.get)
        self._bus.handle(ListNetworkSegmentRanges, self._ranges.list_visible)
        self._bus.handle(UpdateNetworkSegmentRange, self._ranges.update)
        self._bus.handle(DeleteNetworkSegmentRange, self._ranges.delete)
        self._bus.handle(CreateSegments, self._segments.create)
        self._bus.handle(GetSegment, self._segments.get)
        self._bus.handle(ListSegments, self._segments.list_visible)
        self._bus.handle(UpdateSegment, self._segments.update)
        self._bus.handle(DeleteSegment, self._segments.delete)
        self._bus.handle(LookupSegment, self._lookup_segment)
        self._bus.handle(DefaultExternalNetwork, self._default_external)
        self._bus.handle(CreateNetworks, self.create)
        self._bus.handle(GetNetwork, self.get)
        self._bus.handle(ViewNetworks, self.view)
        self._bus.handle(ListNetworks, self.list_visible)
        self._bus.handle(UpdateNetwork, self.update)
        self._bus.handle(DeleteNetwork, self.delete)
        self._bus.handle(LookupNetwork, self._lookup)
        self._bus.handle(SetNetworkSubnets, self._set_subnets)
        self._bus.handle(SetNetworkGateways, self._set_gateways)
        await self._bus.call(
            RegisterUsageCounter(resource="network", counter=repo.usage_counter(NETWORK))
        )
        await self._bus.call(
            RegisterRbacObject(
                hooks=RbacObjectType(
                    object_type="network",
                    actions=(ACCESS_SHARED, ACCESS_EXTERNAL),
                    lookup=self._rbac_lookup,
                    bound_projects=self._bound_projects,
                    changed=self._rbac_changed,
                )
            )
        )

    # ---- visibility: own, or shared / external through an RBAC policy ----------------
    def visible_where(self, ctx: RequestContext) -> list[Where]:
        if ctx.view_project is None:
            return []
        return [network_repo.own_shared_or_external(ctx.view_project)]

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        if ctx.view_project is None or obj["project_id"] == ctx.view_project or obj["shared"]:
            return True
        return await has_policy(
            self._store, "network", obj["id"], ACCESS_SHARED, (ctx.view_project, WILDCARD)
        ) or await has_policy(
            self._store, "network", obj["id"], ACCESS_EXTERNAL, (ctx.view_project, WILDCARD)
        )

    async def decorate(self, objs: Any) -> list[dict[str, Any]]:
        """Show `segments` or provider:* (multi-provider), on fresh reads in place."""
        return shaped(objs, copy=False)

    async def present(self, ctx: RequestContext, objs: Any) -> list[dict[str, Any]]:
        """`shared` is true for the caller when a policy shares the network with it."""
        out = await self.decorate(objs)
        await mark_shared(self._store, "network", ctx.caller.project_id, out)
        return out

    def query_where(self, ctx: RequestContext, query: ListQuery) -> list[Where]:
        """`shared=` selects what the caller sees as shared (the wildcard or a policy)."""
        return [
            Where(sql, params)
            for sql, params in shared_filter(query.filters, "network", ctx.caller.project_id)
        ]

    # ---- RBAC hooks ----------------------------------------------------------------------
    async def _rbac_lookup(self, ctx: RequestContext, network_id: str) -> dict[str, Any]:
        return await self.get_visible(ctx, network_id)

    async def _bound_projects(self, network_id: str, action: str, losing: str) -> set[str]:
        """Projects with ports on the network (shared), or routers with a gateway on it
        (external). A default external network keeps its wildcard (Neutron's rule)."""
        net = await self.lookup(network_id)
        if net is None:
            return set()
        if action == ACCESS_EXTERNAL:
            if losing == WILDCARD and net["is_default"]:
                raise RbacPolicyInUse(
                    object_id=network_id,
                    details="Default external networks must be shared to everyone.",
                )
            ports = await self._bus.call(
                QueryPorts(network_id=network_id, device_owner="network:router_gateway")
            )
            routers = await self._bus.call(LookupRouters(ids=[p["device_id"] for p in ports]))
            return {r["project_id"] for r in routers.values()} - {net["project_id"]}
        ports = await self._bus.call(
            QueryPorts(network_id=network_id, not_project=net["project_id"])
        )
        return {p["project_id"] for p in ports if p["project_id"]}

    async def _rbac_changed(self, network_id: str) -> None:
        """Recompute shared / router:external from the policies; a policy change bumps the
        network's revision, as in Neutron."""
        net = await self.lookup(network_id)
        if net is None:
            return
        db = self._store
        flags = {
            "shared": await has_policy(db, "network", network_id, ACCESS_SHARED, (WILDCARD,)),
            "router:external": await has_policy(db, "network", network_id, ACCESS_EXTERNAL),
        }
        diff = changed(net, flags)
        await repo.update(db, NETWORK, network_id, bump(net, diff))
        self._bus.publish(NetworkUpdated(network=net, changed=frozenset(diff)))

    async def _lookup(self, cmd: LookupNetwork) -> dict[str, Any] | None:
        return await self.lookup(cmd.id)

    async def _default_external(self, cmd: DefaultExternalNetwork) -> str | None:
        return await network_repo.default_external(self._store)

    async def _lookup_segment(self, cmd: LookupSegment) -> dict[str, Any] | None:
        return await self._segments.lookup(cmd.id)

    # ---- create ------------------------------------------------------------------------
    async def create(self, cmd: CreateNetworks) -> list[dict[str, Any]]:
        """Create networks in one transaction."""
        out = []
        async with self._store.transaction():
            projects: dict[str, int] = {}
            for item in cmd.items:
                project = check_create_project(cmd.ctx, item, "create_network")
                check_restricted(NETWORK, "create_network", item, cmd.ctx, creating=True)
                projects[project] = projects.get(project, 0) + 1
            for project, count in projects.items():
                await self._bus.call(
                    CheckQuota(project_id=project, resource="network", count=count)
                )
            for item in cmd.items:
                out.append(await self._create_one(item, cmd.ctx))
        return shaped(out)

    async def _create_one(self, given: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        db = self._store
        net = await new_record(db, NETWORK, given, "Network")
        provider = self._provider_segments(net)
        # In id space order: each take locks its space, as a starting process does (sorted).
        for segment in sorted(provider, key=self._segments.pool_of):
            await self._segments.allocate(net, segment)
        max_mtu = self._config.global_physnet_mtu - max(
            OVERHEAD[s["network_type"]] for s in provider
        )
        net.update(
            {
                "status": "ACTIVE",
                "subnets": [],
                **as_provider(provider[0]),
                "segments": [as_provider(s) for s in provider] if len(provider) > 1 else None,
                "mtu": net.get("mtu", max_mtu),
                "tags": sorted(set(net.get("tags", []))),
                "port_security_enabled": net.get(
                    "port_security_enabled", self._config.port_security_enabled
                ),
            }
        )
        self._check_mtu(net["mtu"], max_mtu)
        net["availability_zones"] = zones_of(
            net["availability_zone_hints"], self._config.availability_zones
        )
        net["qos_policy_id"] = await self._qos_of_new(ctx, net, given)
        await self._bus.call(EnsureDefaultSecurityGroup(project_id=net["project_id"]))
        await repo.insert(db, NETWORK, net)
        await self._segments.add(net, provider)
        for flag, action in RBAC_FLAGS.items():
            if net[flag]:
                await self._set_wildcard(net, action, True)
        self._bus.publish(NetworkCreated(network=net))
        return net

    def _provider_segments(self, net: dict[str, Any]) -> list[dict[str, Any]]:
        """Return the segments a new network asks for: its `segments` (multi-provider), else
        its provider:* attributes (defaults filled in by allocation)."""
        if not net.get("segments"):
            return [
                {
                    "network_type": net.get("provider:network_type")
                    or self._config.default_network_type,
                    "physical_network": net.get("provider:physical_network"),
                    "segmentation_id": net.get("provider:segmentation_id"),
                }
            ]
        if any(net.get(key) is not None for key in PROVIDER):
            raise errors.InvalidInput(
                error_message="Segments and provider values cannot both be set."
            )
        asked = [{name: s.get(key) for name, key in PROVIDER_KEYS.items()} for s in net["segments"]]
        if len({tuple(a.values()) for a in asked}) < len(asked):
            raise errors.InvalidInput(error_message="Duplicate segment entry in request.")
        return asked

    async def _qos_of_new(
        self, ctx: RequestContext, net: dict[str, Any], given: dict[str, Any]
    ) -> str | None:
        """The given policy (visible to the caller), else the project's default one."""
        policy_id = given.get("qos_policy_id")
        if policy_id is not None:
            await self._bus.call(CheckQosPolicy(ctx=ctx, policy_id=policy_id))
            return str(policy_id)
        if "qos_policy_id" in given:
            return None
        default: str | None = await self._bus.call(DefaultQosPolicy(project_id=net["project_id"]))
        return default

    @staticmethod
    def _check_mtu(
        mtu: int, max_mtu: int, net_id: str = "", subnets: Iterable[dict[str, Any]] = ()
    ) -> None:
        """0..max; below what the network's subnets need (68, or 1280 with IPv6) is 409.

        As Neutron (neutron-tempest-plugin): a network without subnets may have any MTU up to
        the maximum, and the IP minimums are subnet conflicts (409 NetworkMTUSubnetConflict).
        The spec had 68..max and IPv6 ≥ 1280 as 400 InvalidInput. alcor does not push the MTU
        to the agents, so a small MTU only limits which subnets the network can have.
        """
        if not 0 <= mtu <= max_mtu:
            raise errors.InvalidInput(
                error_message=f"Requested MTU is too big, maximum is {max_mtu}"
                if mtu > max_mtu
                else f"MTU {mtu} is too small"
            )
        needed = subnet_mtu_minimum(subnets)
        if mtu < needed:
            raise errors.NetworkMTUSubnetConflict(net_id=net_id, mtu=needed)

    # ---- update ------------------------------------------------------------------------
    async def update(self, cmd: UpdateNetwork) -> dict[str, Any]:
        """Update a network (partial)."""
        async with self._store.transaction():
            net = await self.writable(cmd.ctx, cmd.id, "update_network", cmd.if_match, cmd.changes)
            given = self.given_changes(net, cmd)
            diff = changed(net, given)
            if any(p in given for p in PROVIDER):
                raise errors.InvalidInput(
                    error_message="Plugin does not support updating provider attributes"
                )
            if not diff:
                return shaped([net])[0]
            await self._check_update(net, diff)
            if "qos_policy_id" in diff:
                await self._check_qos_change(cmd.ctx, net, diff["qos_policy_id"])
            before = dict(net)
            await repo.update(self._store, NETWORK, net["id"], bump(net, diff))
            self._bus.publish(NetworkUpdated(network=net, changed=frozenset(diff)))
            del before
        return shaped([net])[0]

    async def _check_update(self, net: dict[str, Any], diff: dict[str, Any]) -> None:
        if "mtu" in diff:
            # No subnet is added meanwhile by another process (IPv6 needs 1280).
            await self._store.lock(subnets_lock(net["id"]))
            subnets = await self._bus.call(SubnetsOfNetwork(network_id=net["id"]))
            max_mtu = self._config.global_physnet_mtu - OVERHEAD[net["provider:network_type"]]
            self._check_mtu(diff["mtu"], max_mtu, net["id"], subnets)
        if diff.get("router:external") is False:
            for owner in ("network:router_gateway", "network:floatingip"):
                if await self._bus.call(
                    QueryPorts(network_id=net["id"], device_owner=owner, limit=1)
                ):
                    raise errors.ExternalNetworkInUse(net_id=net["id"])
        await self._update_policies(net, diff)

    async def _check_qos_change(
        self, ctx: RequestContext, net: dict[str, Any], policy_id: str | None
    ) -> None:
        """Detaching needs access to the old policy (403); attaching, to the new one (404)."""
        if net["qos_policy_id"] is not None:
            await self._bus.call(CheckQosPolicyRemoval(ctx=ctx, policy_id=net["qos_policy_id"]))
        if policy_id is not None:
            await self._bus.call(CheckQosPolicy(ctx=ctx, policy_id=policy_id))

    async def _update_policies(self, net: dict[str, Any], diff: dict[str, Any]) -> None:
        """Turn changes of shared / router:external into their wildcard policies."""
        for flag, action in RBAC_FLAGS.items():
            if flag not in diff:
                continue
            if action == ACCESS_EXTERNAL and not diff[flag]:
                # Not external any more: every access_as_external policy goes.
                await self._bus.call(
                    DeleteObjectPolicies(object_type="network", object_id=net["id"], action=action)
                )
                continue
            try:
                await self._set_wildcard(net, action, diff[flag])
            except RbacPolicyInUse:
                raise errors.InvalidSharedSetting(network=net["id"]) from None

    async def _set_wildcard(self, net: dict[str, Any], action: str, present: bool) -> None:
        """Create (present) or delete the network's wildcard policy of `action`."""
        await self._bus.call(
            SetWildcardPolicy(
                object_type="network",
                object_id=net["id"],
                project_id=net["project_id"],
                action=action,
                present=present,
                notify=False,
            )
        )

    async def _set_subnets(self, cmd: SetNetworkSubnets) -> None:
        net = await self.lookup(cmd.network_id)
        if net is None:
            return
        subnets = [s for s in net["subnets"] if s != cmd.remove]
        if cmd.add is not None:
            subnets.append(cmd.add)
        await repo.update(self._store, NETWORK, net["id"], bump(net, {"subnets": subnets}))
        self._bus.publish(NetworkUpdated(network=net, changed=frozenset({"subnets"})))

    async def _set_gateways(self, cmd: SetNetworkGateways) -> None:
        async with self._store.transaction():  # joins the caller's, if any
            net = await self.lookup(cmd.network_id)
            if net is None or list(net.get("gateway_ids") or []) == list(cmd.gateway_ids):
                return
            changes = {"gateway_ids": list(cmd.gateway_ids)}
            await repo.update(self._store, NETWORK, net["id"], bump(net, changes))
            self._bus.publish(NetworkUpdated(network=net, changed=frozenset({"gateway_ids"})))

    # ---- delete ------------------------------------------------------------------------
    async def delete(self, cmd: DeleteNetwork) -> None:
        """Delete a network without ports in use, with its subnets and segment."""
        async with self._store.transaction():
            net = await self.writable(cmd.ctx, cmd.id, "delete_network", cmd.if_match)
            # No port may be created on it meanwhile by another process (port create
            # holds this lock shared).
            await self._store.lock(f"network:{net['id']}")
            ports = await self._bus.call(QueryPorts(network_id=net["id"]))
            if any(port["device_owner"] not in AUTO_DELETED for port in ports):
                raise errors.NetworkInUse(net_id=net["id"])
            # Floating IPs allocated from an external network go with it, as in Neutron
            # (Tempest deletes an external network that still has one).
            await self._bus.call(DeleteNetworkFloatingIps(network_id=net["id"]))
            for port in ports:  # DHCP ports go with their network (§3.3)
                if port["device_owner"] == "network:dhcp":
                    await self._bus.call(DeleteServicePort(port_id=port["id"]))
            await self._bus.call(DeleteNetworkSubnets(network_id=net["id"]))
            await self._bus.call(DeleteNetworkAcls(network_id=net["id"]))
            await self._bus.call(DeleteObjectPolicies(object_type="network", object_id=net["id"]))
            db = self._store
            await segments.release(db, self._config, net["id"], await self._ranges.added_bounds())
            await self._segments.remove_of_network(net["id"])
            await repo.delete(db, NETWORK, net["id"])
            await tombstone(db, "network", net)
            self._bus.publish(NetworkDeleted(network=net))
