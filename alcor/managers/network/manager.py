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
)
from alcor.managers.floatingip.messages import DeleteNetworkFloatingIps
from alcor.managers.network import repo as network_repo
from alcor.managers.network import segments
from alcor.managers.network.messages import (
    CreateNetworks,
    DeleteNetwork,
    GetNetwork,
    ListNetworks,
    LookupNetwork,
    NetworkCreated,
    NetworkDeleted,
    NetworkUpdated,
    SetNetworkGateways,
    SetNetworkSubnets,
    UpdateNetwork,
    ViewNetworks,
)
from alcor.managers.port.messages import DeleteServicePort, QueryPorts
from alcor.managers.quota.messages import CheckQuota, RegisterUsageCounter
from alcor.managers.security_group.messages import EnsureDefaultSecurityGroup
from alcor.managers.subnet.messages import DeleteNetworkSubnets, SubnetsOfNetwork
from alcor.resources import repo
from alcor.resources.network import NETWORK
from alcor.resources.repo import Where
from alcor.store import Store
from alcor.store.revisions import tombstone

_LOGGER = logging.getLogger(__name__)
# The ids of the network's READY gateways (internal, not an API attribute): the VPC goal
# state carries them (southbound spec §8.3). NULL on networks that never had one.
repo.register_extra_columns(NETWORK, ("gateway_ids",), json_columns=("gateway_ids",))
AUTO_DELETED = ("network:dhcp", "network:floatingip")
OVERHEAD = {"vxlan": 50, "geneve": 50, "gre": 42, "vlan": 0, "flat": 0}
PROVIDER = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")


class NetworkManager(ResourceManager):
    """Create, read, update and delete networks."""

    resource = NETWORK
    name = "network"
    requires = ("store", "bus", "quota")

    def __init__(self, bus: Bus, store: Store, config: NetworkConfig) -> None:
        super().__init__(bus, store)
        self._config = config

    async def start(self) -> None:
        """Register handlers and rebuild the segment pools from config."""
        async with self._store.transaction():
            await segments.rebuild_pools(self._store, self._config)
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

    # ---- visibility: own, shared or external -----------------------------------------
    def visible_where(self, ctx: RequestContext) -> list[Where]:
        if ctx.view_project is None:
            return []
        return [network_repo.own_shared_or_external(ctx.view_project)]

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        return (
            ctx.view_project is None
            or obj["project_id"] == ctx.view_project
            or obj["shared"]
            or obj["router:external"]
        )

    async def _lookup(self, cmd: LookupNetwork) -> dict[str, Any] | None:
        return await self.lookup(cmd.id)

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
                out.append(await self._create_one(item))
        return out

    async def _create_one(self, given: dict[str, Any]) -> dict[str, Any]:
        db = self._store
        net = await new_record(db, NETWORK, given, "Network")
        net_type = net.get("provider:network_type") or self._config.default_network_type
        physnet, seg_id = await segments.allocate(
            db,
            self._config,
            net["id"],
            net_type,
            net.get("provider:physical_network"),
            net.get("provider:segmentation_id"),
        )
        max_mtu = self._config.global_physnet_mtu - OVERHEAD[net_type]
        net.update(
            {
                "status": "ACTIVE",
                "subnets": [],
                "provider:network_type": net_type,
                "provider:physical_network": physnet,
                "provider:segmentation_id": seg_id,
                "mtu": net.get("mtu", max_mtu),
                "tags": sorted(set(net.get("tags", []))),
                "port_security_enabled": net.get(
                    "port_security_enabled", self._config.port_security_enabled
                ),
            }
        )
        self._check_mtu(net["mtu"], max_mtu)
        net["availability_zones"] = self._zones(net["availability_zone_hints"])
        await self._bus.call(EnsureDefaultSecurityGroup(project_id=net["project_id"]))
        await repo.insert(db, NETWORK, net)
        self._bus.publish(NetworkCreated(network=net))
        return net

    def _zones(self, hints: list[str]) -> list[str]:
        for zone in hints:
            if zone not in self._config.availability_zones:
                raise errors.AvailabilityZoneNotFound(availability_zone=zone)
        return list(hints) or list(self._config.availability_zones)

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
                return net
            await self._check_update(net, diff)
            before = dict(net)
            await repo.update(self._store, NETWORK, net["id"], bump(net, diff))
            self._bus.publish(NetworkUpdated(network=net, changed=frozenset(diff)))
            del before
        return net

    async def _check_update(self, net: dict[str, Any], diff: dict[str, Any]) -> None:
        if "mtu" in diff:
            subnets = await self._bus.call(SubnetsOfNetwork(network_id=net["id"]))
            max_mtu = self._config.global_physnet_mtu - OVERHEAD[net["provider:network_type"]]
            self._check_mtu(diff["mtu"], max_mtu, net["id"], subnets)
        if diff.get("shared") is False:
            others = await self._bus.call(
                QueryPorts(network_id=net["id"], not_project=net["project_id"], limit=1)
            )
            if others:
                raise errors.InvalidSharedSetting(network=net["id"])
        if diff.get("router:external") is False:
            for owner in ("network:router_gateway", "network:floatingip"):
                if await self._bus.call(
                    QueryPorts(network_id=net["id"], device_owner=owner, limit=1)
                ):
                    raise errors.ExternalNetworkInUse(net_id=net["id"])

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
            db = self._store
            await segments.release(db, self._config, net["id"])
            await repo.delete(db, NETWORK, net["id"])
            await tombstone(db, "network", net)
            self._bus.publish(NetworkDeleted(network=net))
