"""Port changes: API updates, service-port changes, subnet addresses, host rebinding.

Every stored change bumps the revision and the neighbor revision (the revision rule) and
publishes PortUpdated with the state before; a change that resolves to nothing bumps nothing.
"""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import PortConfig
from alcor.managers.base import apply_tag_op
from alcor.managers.common import RequestContext, bump, changed, check_if_match
from alcor.managers.ipam.messages import AllocatePortIps, ReleasePortIps
from alcor.managers.mac.messages import AllocateMac, ReleaseMac
from alcor.managers.node.messages import LookupNodeByName
from alcor.managers.port import access, rules
from alcor.managers.port import repo as port_repo
from alcor.managers.port.create import (
    check_groups,
    check_qos,
    check_subnet_ids,
    lookup_network,
    pin_network,
)
from alcor.managers.port.messages import (
    AddAutoAddresses,
    PortUpdated,
    RebindHost,
    RemoveSubnetAddresses,
    SetServicePort,
    SetSubports,
    UpdatePort,
    UpdatePorts,
)
from alcor.managers.subnet.messages import SubnetsOfNetwork
from alcor.managers.trunk.messages import TrunkOfParent
from alcor.resources import repo
from alcor.resources.port import PORT
from alcor.resources.records import FixedIp
from alcor.resources.trunk import PortInUseAsSubPort
from alcor.store import RetryRequest, Store
from alcor.store.revisions import next_revision

# A port's binding as its subports copy it; and what a subport attached to a trunk says.
BINDING = ("binding:host_id", "binding:vif_type", "binding:vif_details")
_SUBPORT_FIELDS = frozenset({"device_owner", "device_id", "binding:host_id"})


class PortUpdater:
    """Change ports: partial updates (single and bulk) and the internal changes."""

    def __init__(self, bus: Bus, store: Store, config: PortConfig) -> None:
        self._bus = bus
        self._store = store
        self._config = config

    async def update(self, cmd: UpdatePort) -> dict[str, Any]:
        """Update a port (partial)."""
        async with self._store.transaction():
            return await self._update_one(cmd.ctx, cmd.id, cmd.changes, cmd.if_match, cmd.tag_op)

    async def update_many(self, cmd: UpdatePorts) -> list[dict[str, Any]]:
        """Native bulk update: every item as a single PUT, all or nothing."""
        async with self._store.transaction():
            return [
                await self._update_one(
                    cmd.ctx, item["id"], {k: v for k, v in item.items() if k != "id"}, None, None
                )
                for item in cmd.items
            ]

    async def set_service(self, cmd: SetServicePort) -> dict[str, Any]:
        """Turn a port into a router interface, or clear it (internal; no policy)."""
        port = await repo.get(self._store, PORT, cmd.port_id)
        if port is None:
            raise errors.PortNotFound(id=cmd.port_id)
        if cmd.revision is not None and port["revision_number"] != cmd.revision:
            # Changed by another process since the caller checked it (given a device, say):
            # the write's compare-and-swap follows this read, so check it again.
            raise RetryRequest(f"port {port['id']} changed meanwhile (revision {cmd.revision})")
        before = dict(port)
        diff = changed(port, cmd.changes)
        if "security_groups" in diff:
            await self._relink_groups(port["id"], diff["security_groups"])
        return await self._save(port, before, diff)

    async def add_auto_addresses(self, cmd: AddAutoAddresses) -> None:
        """Give every eligible port of the new auto subnet's network its EUI-64 address."""
        subnet = cmd.subnet
        ports = await repo.find(
            self._store, PORT, port_repo.non_router_ports_on(subnet["network_id"])
        )
        if not ports:
            return
        subnets = await self._bus.call(SubnetsOfNetwork(network_id=subnet["network_id"]))
        for port in ports:
            fixed_ips = await self._bus.call(
                AllocatePortIps(
                    port_id=port["id"],
                    network_id=port["network_id"],
                    subnets=subnets,
                    requested=[*port["fixed_ips"], {"subnet_id": subnet["id"]}],
                    mac=port["mac_address"],
                    current=port["fixed_ips"],
                )
            )
            await self._set_fixed_ips(port, fixed_ips)

    async def remove_subnet_addresses(self, cmd: RemoveSubnetAddresses) -> None:
        """Drop a deleted subnet's addresses from the ports that held them."""
        ports = await repo.find(self._store, PORT, port_repo.holding_addresses_in(cmd.subnet_id))
        for port in ports:
            await self._bus.call(ReleasePortIps(port_id=port["id"], subnet_id=cmd.subnet_id))
            await self._set_fixed_ips(
                port, [f for f in port["fixed_ips"] if f["subnet_id"] != cmd.subnet_id]
            )

    async def rebind(self, cmd: RebindHost) -> list[str]:
        """Re-evaluate the binding of the host's ports (its node changed); return those rebound."""
        ports = await repo.find(self._store, PORT, repo.equals("binding_host_id", cmd.host))
        rebound = []
        for port in ports:
            binding = await self._binding(port["binding:host_id"], port["binding:vnic_type"])
            if binding["binding:vif_type"] == port["binding:vif_type"]:
                continue
            diff = dict(binding)
            if port["device_owner"] not in rules.ROUTER_OWNERS:
                diff["status"] = "DOWN"
            await self._save(port, dict(port), diff)
            rebound.append(port["id"])
            await self._carry_subports(port)
        return rebound

    async def set_subports(self, cmd: SetSubports) -> None:
        """Attach ports to a trunk (bound with its parent) or release them."""
        db = self._store
        if cmd.attach:
            parent = await repo.get(db, PORT, cmd.parent_id)
            if parent is None:
                raise errors.PortNotFound(id=cmd.parent_id)
            wanted = {
                "device_owner": port_repo.SUBPORT_OWNER,
                "device_id": cmd.trunk_id,
                **{k: parent[k] for k in BINDING},
            }
        else:
            wanted = {"device_owner": "", "device_id": "", "binding:host_id": ""}
            wanted.update(rules.binding_of("", "normal", None))
        for port in (await repo.get_many(db, PORT, cmd.port_ids)).values():
            await self._set_binding(port, wanted)

    async def _carry_subports(self, parent: dict[str, Any]) -> None:
        """Bind a trunk parent's subports where it is now bound (or unbind them with it)."""
        trunk_id = await self._bus.call(TrunkOfParent(port_id=parent["id"]))
        if trunk_id is None:
            return
        binding = {k: parent[k] for k in BINDING}
        for port in await repo.find(self._store, PORT, port_repo.subports_of(trunk_id)):
            await self._set_binding(port, binding)

    async def _set_binding(self, port: dict[str, Any], wanted: dict[str, Any]) -> None:
        """Store a port's new owner or binding; a moved port is DOWN until its host has it."""
        diff = changed(port, wanted)
        if set(BINDING) & diff.keys() and port["status"] != "N/A":
            diff["status"] = "DOWN"
        await self._save(port, dict(port), diff)

    async def _update_one(
        self,
        ctx: RequestContext,
        port_id: str,
        changes: dict[str, Any],
        if_match: int | None,
        tag_op: tuple[str, Any] | None,
    ) -> dict[str, Any]:
        port = await access.get_visible(self._store, ctx, port_id)
        access.check_write(ctx, port, "update_port")
        network = await lookup_network(self._bus, port["network_id"])
        rules.check_policy(changes, ctx, creating=False, network=network)
        if "device_owner" in changes and changes["device_owner"] != port["device_owner"]:
            rules.check_device_owner(changes)
        check_if_match(port, if_match)
        given = dict(changes)
        if tag_op is not None:
            given["tags"] = apply_tag_op(PORT, port, tag_op)
        diff = changed(port, given)
        if not diff:
            return port
        if port["device_owner"] == port_repo.SUBPORT_OWNER and _SUBPORT_FIELDS & diff.keys():
            # A subport's owner and binding are its trunk's: it follows the parent port.
            raise PortInUseAsSubPort(port_id=port["id"], trunk_id=port["device_id"])
        before = dict(port)
        await self._apply(port, diff, given, network, ctx)
        # A request can differ from the port and still resolve to what it has (fixed_ips
        # given in another form): nothing changed, so nothing is bumped (§1.5).
        diff = {k: v for k, v in diff.items() if before.get(k) != v}
        await self._save(port, before, diff)
        if set(BINDING) & diff.keys():
            await self._carry_subports(port)
        return port

    async def _save(
        self, port: dict[str, Any], before: dict[str, Any], diff: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a port's changes (none: nothing is bumped) and announce them."""
        if not diff:
            return port
        diff["neighbor_revision"] = next_revision(port, "neighbor_revision")
        await repo.update(self._store, PORT, port["id"], bump(port, diff))
        self._bus.publish(PortUpdated(port=port, before=before, changed=frozenset(diff)))
        return port

    async def _set_fixed_ips(self, port: dict[str, Any], fixed_ips: list[FixedIp]) -> None:
        await self._save(port, dict(port), {"fixed_ips": fixed_ips})

    async def _apply(
        self,
        port: dict[str, Any],
        diff: dict[str, Any],
        given: dict[str, Any],
        network: dict[str, Any],
        ctx: RequestContext,
    ) -> None:
        """Resolve a partial update into its stored form: MAC, addresses, security, binding."""
        if "mac_address" in diff:
            await self._change_mac(port, diff, network)
        if "fixed_ips" in diff or "mac_address" in diff:
            await self._readdress(port, diff, ctx)
        merged = {**port, **diff}
        if "qos_policy_id" in diff:
            await check_qos(self._bus, ctx, port["qos_policy_id"], diff["qos_policy_id"])
        if "security_groups" in diff:
            await check_groups(self._bus, port, diff["security_groups"], admin=ctx.is_admin)
        if {"security_groups", "port_security_enabled", "fixed_ips"} & diff.keys():
            rules.check_security(merged, groups_given="security_groups" in diff)
        if {"allowed_address_pairs", "port_security_enabled", "mac_address"} & diff.keys():
            rules.check_pairs(merged, self._config.max_allowed_address_pairs)
            diff["allowed_address_pairs"] = merged["allowed_address_pairs"]
        if "extra_dhcp_opts" in diff:
            diff["extra_dhcp_opts"] = rules.normalize_dhcp_opts(
                given["extra_dhcp_opts"], port["extra_dhcp_opts"]
            )
        if "trusted" in diff or ("binding:profile" in diff and merged["trusted"] is not None):
            diff["binding:profile"] = rules.profile_with_trusted(
                merged["binding:profile"], merged["trusted"]
            )
        if "binding:host_id" in diff or "binding:vnic_type" in diff:
            diff.update(await self._binding(merged["binding:host_id"], merged["binding:vnic_type"]))
            if port["status"] not in ("N/A",) and port["device_owner"] not in rules.ROUTER_OWNERS:
                diff["status"] = "DOWN"
        if "security_groups" in diff:
            await self._relink_groups(port["id"], diff["security_groups"])
        if "tags" in diff:
            diff["tags"] = sorted(set(diff["tags"]))

    async def _readdress(
        self, port: dict[str, Any], diff: dict[str, Any], ctx: RequestContext
    ) -> None:
        """Allocate the requested fixed IPs (or re-derive automatic ones after a MAC change)."""
        await pin_network(self._store, port["network_id"])
        subnets = await self._bus.call(SubnetsOfNetwork(network_id=port["network_id"]))
        await check_subnet_ids(self._store, diff.get("fixed_ips"), subnets, ctx)
        requested = diff.get("fixed_ips", _reusable(port["fixed_ips"], subnets))
        diff["fixed_ips"] = await self._bus.call(
            AllocatePortIps(
                port_id=port["id"],
                network_id=port["network_id"],
                subnets=subnets,
                requested=requested,
                mac=diff.get("mac_address", port["mac_address"]),
                current=port["fixed_ips"],
            )
        )

    async def _change_mac(
        self, port: dict[str, Any], diff: dict[str, Any], network: dict[str, Any]
    ) -> None:
        if port["binding:vif_type"] not in ("unbound", "binding_failed"):
            raise errors.PortBound(
                port_id=port["id"],
                vif_type=port["binding:vif_type"],
                old_mac=port["mac_address"],
                new_mac=diff["mac_address"],
            )
        # mac_address null regenerates the MAC (port-mac-address-regenerate).
        diff["mac_address"] = await self._bus.call(
            AllocateMac(network_id=network["id"], owner=port["id"], mac=diff["mac_address"])
        )
        await self._bus.call(
            ReleaseMac(network_id=network["id"], mac=port["mac_address"], owner=port["id"])
        )

    async def _binding(self, host: str, vnic_type: str) -> dict[str, Any]:
        node = await self._bus.call(LookupNodeByName(name=host)) if host else None
        return rules.binding_of(host, vnic_type, node)

    async def _relink_groups(self, port_id: str, groups: list[str]) -> None:
        await port_repo.unlink_security_groups(self._store, port_id)
        await port_repo.link_security_groups(self._store, [(port_id, g) for g in groups])


def _reusable(fixed_ips: list[FixedIp], subnets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Request the same addresses again, but re-derive automatic (EUI-64) ones."""
    auto = {
        s["id"]
        for s in subnets
        if s["ip_version"] == 6 and s.get("ipv6_address_mode") in ("slaac", "dhcpv6-stateless")
    }
    return [{"subnet_id": f["subnet_id"]} if f["subnet_id"] in auto else dict(f) for f in fixed_ips]
