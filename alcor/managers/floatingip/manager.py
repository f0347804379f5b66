"""Floating IP manager (the original's elastic IPs): allocation and port association."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Sequence
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.base import ResourceManager, apply_tag_op
from alcor.managers.common import (
    RequestContext,
    bump,
    changed,
    check_create_project,
    check_restricted,
    new_record,
)
from alcor.managers.floatingip import repo as fip_repo
from alcor.managers.floatingip.messages import (
    CreateFloatingIps,
    DeleteFloatingIp,
    DeleteNetworkFloatingIps,
    DisassociatePort,
    FloatingIpChanged,
    FloatingIpsOfRouter,
    GetFloatingIp,
    ListFloatingIps,
    UpdateFloatingIp,
    ViewFloatingIps,
)
from alcor.managers.network.messages import GetNetwork
from alcor.managers.port.messages import (
    CreateServicePort,
    DeleteServicePort,
    GetPort,
    LookupPorts,
    PortStatusChanged,
)
from alcor.managers.port_forwarding.messages import FipPortForwardings
from alcor.managers.quota.messages import CheckQuota, RegisterUsageCounter
from alcor.managers.router.messages import FindRouterForFloatingIp, GetRouter
from alcor.managers.subnet.messages import SubnetsOfNetwork
from alcor.resources import repo
from alcor.resources.floatingip import FLOATINGIP
from alcor.resources.port_forwarding import FipInUseByPortForwarding
from alcor.store import Store
from alcor.store.revisions import tombstone

_LOGGER = logging.getLogger(__name__)
repo.register_extra_columns(FLOATINGIP, ("fip_port_id",))
PORT_DETAILS = (
    "name",
    "network_id",
    "mac_address",
    "admin_state_up",
    "status",
    "device_id",
    "device_owner",
)


class FloatingIpManager(ResourceManager):
    """Allocate, associate, disassociate and release floating IPs."""

    resource = FLOATINGIP
    name = "floatingip"
    requires = ("store", "bus", "quota", "network", "subnet")

    def __init__(self, bus: Bus, store: Store) -> None:
        super().__init__(bus, store)
        self._unsubscribe: Callable[[], None] = lambda: None

    async def start(self) -> None:
        """Register the floating IP commands."""
        self._bus.handle(CreateFloatingIps, self.create)
        self._bus.handle(GetFloatingIp, self.get)
        self._bus.handle(ViewFloatingIps, self.view)
        self._bus.handle(ListFloatingIps, self.list_visible)
        self._bus.handle(UpdateFloatingIp, self.update)
        self._bus.handle(DeleteFloatingIp, self.delete)
        self._bus.handle(DisassociatePort, self._disassociate_port)
        self._bus.handle(FloatingIpsOfRouter, self._of_router)
        self._bus.handle(DeleteNetworkFloatingIps, self._delete_of_network)
        await self._bus.call(
            RegisterUsageCounter(resource="floatingip", counter=repo.usage_counter(FLOATINGIP))
        )
        # In the port status's own transaction: one commit for both, and a floating IP's
        # status never lags its port's (a transaction per port status cost a commit each).
        self._unsubscribe = self._bus.write_with(PortStatusChanged, self._port_status)

    async def stop(self) -> None:
        """Unsubscribe from port status changes."""
        self._unsubscribe()

    async def _port_status(self, event: PortStatusChanged) -> None:
        status = "ACTIVE" if event.status == "ACTIVE" else "DOWN"
        await repo.set_status(
            self._store, FLOATINGIP, status, repo.equals("port_id", event.port_id)
        )

    async def decorate(self, objs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add port_details of the associated ports (one lookup for all) and the port
        forwardings of each floating IP."""
        port_ids = [o["port_id"] for o in objs if o.get("port_id")]
        ports = await self._bus.call(LookupPorts(ids=port_ids)) if port_ids else {}
        forwardings = await self._bus.call(FipPortForwardings(fip_ids=[o["id"] for o in objs]))
        for obj in objs:
            port = ports.get(obj.get("port_id") or "")
            obj["port_details"] = {k: port.get(k) for k in PORT_DETAILS} if port else None
            obj["port_forwardings"] = forwardings.get(obj["id"], [])
        return list(objs)

    async def _check_no_forwardings(self, fip: dict[str, Any]) -> None:
        """A floating IP that forwards ports is not associated nor released (409)."""
        if (await self._bus.call(FipPortForwardings(fip_ids=[fip["id"]]))).get(fip["id"]):
            raise FipInUseByPortForwarding(id=fip["id"])

    # ---- create ------------------------------------------------------------------------
    async def create(self, cmd: CreateFloatingIps) -> list[dict[str, Any]]:
        """Allocate floating IPs (and associate those given a port_id)."""
        out = []
        async with self._store.transaction():
            counts: dict[str, int] = {}
            for item in cmd.items:
                project = check_create_project(cmd.ctx, item, "create_floatingip")
                check_restricted(FLOATINGIP, "create_floatingip", item, cmd.ctx, creating=True)
                # Not-visible network or port is 404 before any quota refusal (§1.3).
                await self._bus.call(GetNetwork(ctx=cmd.ctx, id=item["floating_network_id"]))
                if item.get("port_id"):
                    await self._bus.call(GetPort(ctx=cmd.ctx, id=item["port_id"]))
                counts[project] = counts.get(project, 0) + 1
            for project, count in counts.items():
                await self._bus.call(
                    CheckQuota(project_id=project, resource="floatingip", count=count)
                )
            for item in cmd.items:
                out.append(await self._create_one(cmd.ctx, item))
        return await self.decorate(out)

    async def _create_one(self, ctx: RequestContext, given: dict[str, Any]) -> dict[str, Any]:
        db = self._store
        network = await self._bus.call(GetNetwork(ctx=ctx, id=given["floating_network_id"]))
        if not network["router:external"]:
            raise errors.BadRequest(
                resource="floatingip",
                msg=f"Network {network['id']} is not a valid external network",
            )
        fip = await new_record(
            db, FLOATINGIP, {k: v for k, v in given.items() if k != "subnet_id"}, "Floating IP"
        )
        port = await self._allocate(network, fip["id"], given)
        fip.update(
            {
                "floating_ip_address": port["fixed_ips"][0]["ip_address"],
                "fip_port_id": port["id"],
                "status": "DOWN",
                "router_id": None,
                "port_id": None,
                "fixed_ip_address": None,
                "tags": sorted(set(fip["tags"])),
            }
        )
        if given.get("port_id"):
            await self._associate(
                ctx, fip, given["port_id"], given.get("fixed_ip_address"), given.get("router_id")
            )
        await repo.insert(db, FLOATINGIP, fip)
        self._bus.publish(FloatingIpChanged(floatingip=dict(fip)))
        return fip

    async def _allocate(
        self, network: dict[str, Any], fip_id: str, given: dict[str, Any]
    ) -> dict[str, Any]:
        subnets = [
            s
            for s in await self._bus.call(SubnetsOfNetwork(network_id=network["id"]))
            if s["ip_version"] == 4
        ]
        subnet_id, address = given.get("subnet_id"), given.get("floating_ip_address")
        if subnet_id is not None and subnet_id not in {s["id"] for s in subnets}:
            raise errors.BadRequest(
                resource="floatingip",
                msg=f"Subnet {subnet_id} is not an IPv4 subnet of network {network['id']}",
            )
        if address is not None:
            ip = ipaddress.ip_address(address)
            match = [
                s
                for s in subnets
                if ip in ipaddress.ip_network(s["cidr"])
                and (subnet_id is None or s["id"] == subnet_id)
            ]
            if not match:
                raise errors.InvalidIpForNetwork(ip_address=address)
            requested = [{"subnet_id": match[0]["id"], "ip_address": address}]
        elif subnet_id is not None:
            requested = [{"subnet_id": subnet_id}]
        else:
            return await self._first_free(network, fip_id, subnets)
        return await self._bus.call(
            CreateServicePort(
                network_id=network["id"],
                project_id="",
                device_owner="network:floatingip",
                device_id=fip_id,
                fixed_ips=requested,
            )
        )

    async def _first_free(
        self, network: dict[str, Any], fip_id: str, subnets: list[dict[str, Any]]
    ) -> dict[str, Any]:
        for subnet in subnets:
            try:
                async with self._store.transaction():
                    return await self._bus.call(
                        CreateServicePort(
                            network_id=network["id"],
                            project_id="",
                            device_owner="network:floatingip",
                            device_id=fip_id,
                            fixed_ips=[{"subnet_id": subnet["id"]}],
                        )
                    )
            except errors.IpAddressGenerationFailure:
                continue
        raise errors.IpAddressGenerationFailure(net_id=network["id"])

    # ---- association -------------------------------------------------------------------
    async def _associate(
        self,
        ctx: RequestContext,
        fip: dict[str, Any],
        port_id: str,
        fixed_ip: str | None,
        router_id: str | None = None,
    ) -> None:
        """Resolve port, fixed IP and router (the one asked for, floating-ip-router-writable,
        else the one joining the port's subnet to the floating network); set them on `fip`
        (not yet written)."""
        port = await self._bus.call(GetPort(ctx=ctx, id=port_id))
        if not ctx.is_admin and port["project_id"] != fip["project_id"]:
            # Readable (e.g. on the caller's network) but another project's: 400 as in
            # Neutron (neutron-tempest-plugin); the spec had 404 PortNotFound.
            raise errors.BadRequest(
                resource="floatingip",
                msg=(
                    f"Cannot process floating IP association with Port {port_id}, since that "
                    f"port is owned by a different project"
                ),
            )
        if port["device_owner"].startswith("network:"):
            raise errors.BadRequest(
                resource="floatingip",
                msg=f"Port {port_id} has owner "
                f"{port['device_owner']} and "
                f"therefore cannot be assigned a "
                f"floating IP",
            )
        v4 = [f for f in port["fixed_ips"] if ipaddress.ip_address(f["ip_address"]).version == 4]
        if fixed_ip is not None:
            if ipaddress.ip_address(fixed_ip).version != 4:
                raise errors.BadRequest(resource="floatingip", msg="fixed_ip_address must be IPv4")
            chosen = [f for f in v4 if f["ip_address"] == fixed_ip]
            if not chosen:
                raise errors.BadRequest(
                    resource="floatingip", msg=f"Port {port_id} does not have fixed ip {fixed_ip}"
                )
        elif len(v4) != 1:
            raise errors.BadRequest(
                resource="floatingip",
                msg=(
                    f"Port {port_id} has no IPv4 address"
                    if not v4
                    else f"Port {port_id} has multiple fixed IPv4 addresses. Must provide a specific "
                    f"IPv4 address when assigning a floating IP"
                ),
            )
        else:
            chosen = v4
        entry = chosen[0]
        if router_id is not None:
            await self._check_router(ctx, router_id, fip["floating_network_id"])
        else:
            router_id = await self._bus.call(
                FindRouterForFloatingIp(
                    network_id=fip["floating_network_id"], subnet_id=entry["subnet_id"]
                )
            )
        if router_id is None:
            raise errors.ExternalGatewayForFloatingIPNotFound(
                external_network_id=fip["floating_network_id"],
                subnet_id=entry["subnet_id"],
                port_id=port_id,
            )
        # One floating IP per fixed IP and network: another process's association of the
        # same port waits until this transaction ends.
        await self._store.lock(f"floatingip_port:{port_id}")
        other = await fip_repo.other_on_fixed_ip(
            self._store, port_id, entry["ip_address"], fip["floating_network_id"], fip["id"]
        )
        if other is not None:
            raise errors.FloatingIPPortAlreadyAssociated(
                floating_ip_address=fip["floating_ip_address"],
                fip_id=fip["id"],
                port_id=port_id,
                fixed_ip=entry["ip_address"],
                net_id=fip["floating_network_id"],
            )
        fip.update(
            {
                "port_id": port_id,
                "fixed_ip_address": entry["ip_address"],
                "router_id": router_id,
                "status": _status(port),
            }
        )

    async def _check_router(self, ctx: RequestContext, router_id: str, network_id: str) -> None:
        """A router asked to host a floating IP is visible and has its gateway on the floating
        IP's network (409 otherwise)."""
        router = await self._bus.call(GetRouter(ctx=ctx, id=router_id))
        gateway = router.get("external_gateway_info") or {}
        if gateway.get("network_id") != network_id:
            raise errors.Conflict(
                f"Router {router_id} has no external gateway on network {network_id}"
            )

    async def update(self, cmd: UpdateFloatingIp) -> dict[str, Any]:
        """Associate, re-associate or disassociate (port_id null); description and tags."""
        async with self._store.transaction():
            fip = await self.writable(cmd.ctx, cmd.id, "update_floatingip", cmd.if_match)
            given = dict(cmd.changes)
            if not given and cmd.tag_op is None:
                # An empty body disassociates, as in Neutron (from when port_id was the only
                # attribute; neutron-tempest-plugin's test_blank_update_clears_association).
                given["port_id"] = None
            if cmd.tag_op is not None:
                given["tags"] = apply_tag_op(FLOATINGIP, fip, cmd.tag_op)
            before = dict(fip)
            association = ("port_id", "fixed_ip_address", "router_id")
            diff = changed(fip, {k: v for k, v in given.items() if k not in association})
            if any(k in given for k in association):
                port_id = given.get("port_id", fip["port_id"])
                if port_id is None:
                    fip.update(_disassociated())
                else:
                    await self._check_no_forwardings(fip)
                    await self._associate(
                        cmd.ctx,
                        fip,
                        port_id,
                        given.get("fixed_ip_address"),
                        given.get("router_id"),
                    )
                diff.update(
                    {
                        k: fip[k]
                        for k in ("port_id", "fixed_ip_address", "router_id", "status")
                        if fip[k] != before[k]
                    }
                )
            if diff:
                await repo.update(self._store, FLOATINGIP, fip["id"], bump(fip, diff))
                self._bus.publish(FloatingIpChanged(floatingip=dict(fip), before=before))
        return (await self.decorate([fip]))[0]

    async def _disassociate_port(self, cmd: DisassociatePort) -> None:
        for fip in await repo.find(self._store, FLOATINGIP, repo.equals("port_id", cmd.port_id)):
            before = dict(fip)
            await repo.update(self._store, FLOATINGIP, fip["id"], bump(fip, _disassociated()))
            self._bus.publish(FloatingIpChanged(floatingip=dict(fip), before=before))

    async def _of_router(self, cmd: FloatingIpsOfRouter) -> list[dict[str, Any]]:
        return await repo.find(self._store, FLOATINGIP, repo.equals("router_id", cmd.router_id))

    # ---- delete ------------------------------------------------------------------------
    async def delete(self, cmd: DeleteFloatingIp) -> None:
        """Release a floating IP (disassociating it first)."""
        async with self._store.transaction():
            fip = await self.writable(cmd.ctx, cmd.id, "delete_floatingip", cmd.if_match)
            await self._check_no_forwardings(fip)
            await self._release(fip)

    async def _release(self, fip: dict[str, Any]) -> None:
        await self._bus.call(DeleteServicePort(port_id=fip["fip_port_id"]))
        await repo.delete(self._store, FLOATINGIP, fip["id"])
        await tombstone(self._store, "floatingip", fip)
        self._bus.publish(FloatingIpChanged(floatingip=dict(fip), before=dict(fip), deleted=True))

    async def _delete_of_network(self, cmd: DeleteNetworkFloatingIps) -> None:
        for fip in await repo.find(
            self._store, FLOATINGIP, repo.equals("floating_network_id", cmd.network_id)
        ):
            await self._release(fip)


def _disassociated() -> dict[str, Any]:
    return {"port_id": None, "fixed_ip_address": None, "router_id": None, "status": "DOWN"}


def _status(port: dict[str, Any]) -> str:
    # Associated: DOWN until the port's host acknowledges programming (the port is ACTIVE).
    return "ACTIVE" if port["status"] == "ACTIVE" else "DOWN"
