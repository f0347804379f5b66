"""Port creation: authorisation, quota, MAC and addresses, security groups, binding.

A bulk create is one transaction. Several ports on one network with automatic MACs and
addresses take a batch path (allocations and inserts in batches); the rest go one by one.
"""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import PortConfig
from alcor.managers.common import RequestContext, check_create_project, deny, new_record
from alcor.managers.ipam.messages import AllocateAutomaticIps, AllocatePortIps
from alcor.managers.mac.messages import AllocateMac, AllocateMacs
from alcor.managers.network.messages import GetNetwork, LookupNetwork
from alcor.managers.node.messages import LookupNodeByName
from alcor.managers.port import repo as port_repo
from alcor.managers.port import rules
from alcor.managers.port.messages import CreatePorts, CreateServicePort, PortCreated
from alcor.managers.qos.messages import CheckQosPolicy, CheckQosPolicyRemoval
from alcor.managers.quota.messages import CheckQuota
from alcor.managers.security_group.messages import (
    CheckPortSecurityGroups,
    EnsureDefaultSecurityGroup,
)
from alcor.managers.subnet.messages import SubnetsOfNetwork
from alcor.resources import repo
from alcor.resources.port import PORT
from alcor.store import Store


class PortCreator:
    """Create ports: API creates (bulk, all or nothing) and router / floating IP ports."""

    def __init__(self, bus: Bus, store: Store, config: PortConfig) -> None:
        self._bus = bus
        self._store = store
        self._config = config

    async def create(self, cmd: CreatePorts) -> list[dict[str, Any]]:
        """Create ports in one transaction (bulk: all or nothing)."""
        out = []
        async with self._store.transaction():
            prepared = []
            counts: dict[str, int] = {}
            networks: dict[str, dict[str, Any]] = {}  # one lookup per network, not per item
            for item in cmd.items:
                network = await self._authorize(cmd.ctx, item, networks)
                prepared.append((item, network))
                counts[item["project_id"]] = counts.get(item["project_id"], 0) + 1
            for project, count in counts.items():
                await self._bus.call(CheckQuota(project_id=project, resource="port", count=count))
                # A port create is a "first use" of the project's default group (§7.1),
                # whether or not this port ends up in it.
                await self._bus.call(EnsureDefaultSecurityGroup(project_id=project))
            subnets_of: dict[str, list[dict[str, Any]]] = {}
            for _, network in prepared:
                if network["id"] not in subnets_of:
                    subnets_of[network["id"]] = await self._bus.call(
                        SubnetsOfNetwork(network_id=network["id"])
                    )
            typed = any(s.get("service_types") for sub in subnets_of.values() for s in sub)
            if _batchable(prepared) and not typed:
                network = prepared[0][1]
                return await self._create_batch(
                    [i for i, _ in prepared], network, subnets_of[network["id"]], cmd.ctx
                )
            for item, network in prepared:
                out.append(await self.create_one(item, network, subnets_of[network["id"]], cmd.ctx))
        return out

    async def create_service(self, cmd: CreateServicePort) -> dict[str, Any]:
        """Create a router or floating IP port (no quota refusal, no security groups)."""
        await pin_network(self._store, cmd.network_id)
        network = await lookup_network(self._bus, cmd.network_id)
        subnets = await self._bus.call(SubnetsOfNetwork(network_id=cmd.network_id))
        given: dict[str, Any] = {
            "network_id": cmd.network_id,
            "project_id": cmd.project_id,
            "device_owner": cmd.device_owner,
            "device_id": cmd.device_id,
            "security_groups": [],
            "port_security_enabled": False,
        }
        if cmd.fixed_ips is not None:
            given["fixed_ips"] = cmd.fixed_ips
        return await self.create_one(given, network, subnets, None, borrowed_mac=cmd.mac_address)

    async def _authorize(
        self, ctx: RequestContext, item: dict[str, Any], networks: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        rules.check_device_owner(item)
        project = check_create_project(ctx, item, "create_port")
        network = networks.get(item["network_id"])
        if network is None:
            await pin_network(self._store, item["network_id"])
            network = await self._bus.call(GetNetwork(ctx=ctx, id=item["network_id"]))
            networks[network["id"]] = network
        if not ctx.is_admin and network["project_id"] != project and not network["shared"]:
            raise deny("create_port")
        rules.check_policy(item, ctx, creating=True, network=network)
        return network

    async def create_one(
        self,
        given: dict[str, Any],
        network: dict[str, Any],
        subnets: list[dict[str, Any]],
        ctx: RequestContext | None,
        borrowed_mac: str | None = None,
    ) -> dict[str, Any]:
        """Create one port in the caller's transaction and announce it."""
        port = await self._skeleton(given, network)
        if borrowed_mac is not None:
            port["mac_address"] = borrowed_mac  # the subnet's gateway MAC stays the subnet's
        else:
            port["mac_address"] = await self._bus.call(
                AllocateMac(
                    network_id=network["id"], owner=port["id"], mac=given.get("mac_address")
                )
            )
        await check_subnet_ids(self._store, given.get("fixed_ips"), subnets, ctx)
        if given.get("fixed_ips") is None:
            subnets = rules.eligible_subnets(subnets, network["id"], port["device_owner"])
        port["fixed_ips"] = await self._bus.call(
            AllocatePortIps(
                port_id=port["id"],
                network_id=network["id"],
                subnets=subnets,
                requested=given.get("fixed_ips"),
                mac=port["mac_address"],
            )
        )
        await self._finish(port, given, network, ctx, {})
        await repo.insert(self._store, PORT, port)
        await port_repo.link_security_groups(
            self._store, [(port["id"], g) for g in port["security_groups"]]
        )
        self._bus.publish(PortCreated(port=port))
        return port

    async def _create_batch(
        self,
        items: list[dict[str, Any]],
        network: dict[str, Any],
        subnets: list[dict[str, Any]],
        ctx: RequestContext,
    ) -> list[dict[str, Any]]:
        """Bulk ports with automatic MACs and addresses: allocations and inserts in batches."""
        ports = [await self._skeleton(given, network) for given in items]
        ids = [p["id"] for p in ports]
        macs = await self._bus.call(AllocateMacs(network_id=network["id"], owners=ids))
        fixed = await self._bus.call(
            AllocateAutomaticIps(network_id=network["id"], subnets=subnets, port_ids=ids, macs=macs)
        )
        nodes: dict[str, Any] = {}
        for port, given, mac, fixed_ips in zip(ports, items, macs, fixed, strict=True):
            port["mac_address"], port["fixed_ips"] = mac, fixed_ips
            await self._finish(port, given, network, ctx, nodes)
        await repo.insert_many(self._store, PORT, ports)
        await port_repo.link_security_groups(
            self._store, [(p["id"], g) for p in ports for g in p["security_groups"]]
        )
        for port in ports:
            self._bus.publish(PortCreated(port=port))
        return ports

    async def _skeleton(self, given: dict[str, Any], network: dict[str, Any]) -> dict[str, Any]:
        port = await new_record(self._store, PORT, given, "Port")
        port["network_project_id"] = network["project_id"]
        port["neighbor_revision"] = port["revision_number"]
        return port

    async def _finish(
        self,
        port: dict[str, Any],
        given: dict[str, Any],
        network: dict[str, Any],
        ctx: RequestContext | None,
        nodes: dict[str, Any],
    ) -> None:
        """Security, pairs, DHCP options, binding and status of a port being created."""
        port.setdefault("port_security_enabled", network["port_security_enabled"])
        if ctx is not None:
            await check_qos(self._bus, ctx, None, port["qos_policy_id"])
        await self._set_security_groups(port, given, ctx)
        rules.check_pairs(port, self._config.max_allowed_address_pairs)
        port["extra_dhcp_opts"] = rules.normalize_dhcp_opts(port["extra_dhcp_opts"])
        host = port["binding:host_id"]
        if host not in nodes:
            nodes[host] = await self._bus.call(LookupNodeByName(name=host)) if host else None
        port.update(rules.binding_of(host, port["binding:vnic_type"], nodes[host]))
        if port["trusted"] is not None:
            port["binding:profile"] = rules.profile_with_trusted(
                port["binding:profile"], port["trusted"]
            )
        port["status"] = rules.initial_status(port["device_owner"])
        port["tags"] = sorted(set(port["tags"]))

    async def _set_security_groups(
        self, port: dict[str, Any], given: dict[str, Any], ctx: RequestContext | None
    ) -> None:
        if "security_groups" in given:
            groups = given["security_groups"]
            await check_groups(self._bus, port, groups, admin=ctx is None or ctx.is_admin)
        elif (
            port["port_security_enabled"]
            and port["fixed_ips"]
            and not port["device_owner"].startswith("network:")
        ):
            groups = [
                await self._bus.call(EnsureDefaultSecurityGroup(project_id=port["project_id"]))
            ]
        else:
            groups = []
        port["security_groups"] = groups
        rules.check_security(port, groups_given="security_groups" in given)


async def pin_network(store: Store, network_id: str) -> None:
    """Keep the network from being deleted by another process until this transaction
    ends (the network delete takes the same lock exclusively). Read it after this."""
    await store.lock(f"network:{network_id}", shared=True)


async def lookup_network(bus: Bus, network_id: str) -> dict[str, Any]:
    """Return the stored network (no visibility check) or raise NetworkNotFound."""
    network = await bus.call(LookupNetwork(id=network_id))
    if network is None:
        raise errors.NetworkNotFound(id=network_id)
    return network


async def check_qos(bus: Bus, ctx: RequestContext, old: str | None, new: str | None) -> None:
    """Detaching a QoS policy needs access to it (403); attaching, to the new one (404)."""
    if old is not None:
        await bus.call(CheckQosPolicyRemoval(ctx=ctx, policy_id=old))
    if new is not None:
        await bus.call(CheckQosPolicy(ctx=ctx, policy_id=new))


async def check_groups(bus: Bus, port: dict[str, Any], groups: list[str], admin: bool) -> None:
    """Refuse groups that do not exist or that the port's project may not use."""
    if groups:
        await bus.call(
            CheckPortSecurityGroups(ids=groups, project_id=port["project_id"], admin=admin)
        )


async def check_subnet_ids(
    store: Store,
    fixed_ips: list[dict[str, Any]] | None,
    subnets: list[dict[str, Any]],
    ctx: RequestContext | None,
) -> None:
    """A subnet_id that exists but is on another network is InvalidInput; unknown is 404."""
    if not fixed_ips:
        return
    ours = {s["id"] for s in subnets}
    for item in fixed_ips:
        subnet_id = item.get("subnet_id")
        if subnet_id is None or subnet_id in ours:
            continue
        owner = await port_repo.subnet_owner(store, subnet_id)
        if owner is None or (
            ctx is not None
            and ctx.view_project not in (None, owner[0])
            and not await port_repo.network_is_public(store, owner[1])
        ):
            raise errors.SubnetNotFound(id=subnet_id)
        raise errors.InvalidInput(
            error_message=f"Failed to create port on network "
            f"{subnets[0]['network_id'] if subnets else ''}"
            f", because fixed_ips included invalid subnet "
            f"{subnet_id}"
        )


def _batchable(prepared: list[tuple[dict[str, Any], dict[str, Any]]]) -> bool:
    """Several ports on one network with automatic MACs and addresses take the batch path."""
    return (
        len(prepared) > 1
        and len({n["id"] for _, n in prepared}) == 1
        and all("fixed_ips" not in item and "mac_address" not in item for item, _ in prepared)
    )
