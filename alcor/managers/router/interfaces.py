"""Router interfaces: add and remove them by subnet or by port (northbound §6.2)."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.common import RequestContext, bump, check_write, deny
from alcor.managers.floatingip.messages import FloatingIpsOfRouter
from alcor.managers.port.messages import (
    BumpNeighbors,
    CreateServicePort,
    DeleteServicePort,
    GetPort,
    LookupPorts,
    QueryPorts,
    SetServicePort,
)
from alcor.managers.router.messages import RouterChanged, RouterInterface
from alcor.managers.subnet.messages import GetSubnet, LookupSubnets, SetAttachedRouter
from alcor.resources import repo
from alcor.resources.base import bad
from alcor.resources.router import ROUTER
from alcor.resources.types import Invalid, Uuid
from alcor.store import Store

INTERFACE = "network:router_interface"
GetVisible = Callable[[RequestContext, str], Awaitable[dict[str, Any]]]


class RouterInterfaces:
    """add_router_interface / remove_router_interface, in one transaction each."""

    def __init__(self, bus: Bus, store: Store, get_visible: GetVisible) -> None:
        self._bus = bus
        self._store = store
        self._get_visible = get_visible

    async def handle(self, cmd: RouterInterface) -> dict[str, Any]:
        """Handle add_router_interface / remove_router_interface."""
        body = cmd.body
        if not isinstance(body, dict):
            raise bad("Malformed request body")
        unknown = [k for k in body if k not in ("subnet_id", "port_id")]
        if unknown:
            raise bad(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
        if (subnet_id is None and port_id is None) or (cmd.add and subnet_id and port_id):
            raise errors.BadRequest(
                resource="router", msg="Either subnet_id or port_id must be specified"
            )
        # Ids that are not UUIDs are 400, as in Neutron (neutron-tempest-plugin), not 404.
        subnet_id, port_id = _interface_id(subnet_id), _interface_id(port_id)
        async with self._store.transaction():
            router = await self._get_visible(cmd.ctx, cmd.id)
            check_write(
                cmd.ctx, router, "add_router_interface" if cmd.add else "remove_router_interface"
            )
            before = await interfaces_of(self._bus, router["id"])
            # An add names exactly one of the two (checked above).
            if cmd.add and port_id is not None:
                port = await self._add_by_port(cmd.ctx, router, before, port_id)
            elif cmd.add and subnet_id is not None:
                port = await self._add_by_subnet(cmd.ctx, router, before, subnet_id)
            else:
                port = await self._remove(cmd.ctx, router, before, subnet_id, port_id)
            after = await interfaces_of(self._bus, router["id"])
            await repo.update(self._store, ROUTER, router["id"], bump(router, {}))
            touched = set(subnet_ids(before)) | set(subnet_ids(after))
            await self._bump_neighbors(touched)
            await publish_changed(self._bus, router, touched)
        on = [f["subnet_id"] for f in port["fixed_ips"]]
        return {
            "id": router["id"],
            "network_id": port["network_id"],
            "port_id": port["id"],
            "subnet_id": on[0] if on else None,
            "subnet_ids": on,
            "project_id": router["project_id"],
            "tenant_id": router["project_id"],
            "tags": [],
        }

    async def _check_attachable(
        self, router: dict[str, Any], interfaces: list[dict[str, Any]], subnet: dict[str, Any]
    ) -> None:
        attached = subnet_ids(interfaces)
        if subnet["id"] in attached:
            raise errors.BadRequest(
                resource="router", msg=f"Router already has a port on subnet {subnet['id']}"
            )
        network = ipaddress.ip_network(subnet["cidr"])
        for other in (await self._bus.call(LookupSubnets(ids=attached))).values():
            if network.overlaps(ipaddress.ip_network(other["cidr"])):
                raise errors.BadRequest(
                    resource="router",
                    msg=f"Cidr {subnet['cidr']} of subnet "
                    f"{subnet['id']} overlaps with cidr "
                    f"{other['cidr']} of subnet "
                    f"{other['id']}",
                )

    async def _add_by_subnet(
        self,
        ctx: RequestContext,
        router: dict[str, Any],
        interfaces: list[dict[str, Any]],
        subnet_id: str,
    ) -> dict[str, Any]:
        subnet = await self._bus.call(GetSubnet(ctx=ctx, id=subnet_id))
        if not ctx.is_admin and subnet["project_id"] != router["project_id"]:
            raise deny("add_router_interface")
        if subnet["gateway_ip"] is None:
            raise errors.BadRequest(
                resource="router", msg="Subnet for router interface must have a gateway IP"
            )
        await self._check_attachable(router, interfaces, subnet)
        port = await self._bus.call(
            CreateServicePort(
                network_id=subnet["network_id"],
                project_id=subnet["project_id"],
                device_owner=INTERFACE,
                device_id=router["id"],
                fixed_ips=[{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}],
                mac_address=subnet["gateway_mac"],
            )
        )
        await self._bus.call(SetAttachedRouter(subnet_id=subnet["id"], router_id=router["id"]))
        return port

    async def _add_by_port(
        self,
        ctx: RequestContext,
        router: dict[str, Any],
        interfaces: list[dict[str, Any]],
        port_id: str,
    ) -> dict[str, Any]:
        port = await self._bus.call(GetPort(ctx=ctx, id=port_id))
        if not ctx.is_admin and port["project_id"] != router["project_id"]:
            raise deny("add_router_interface")
        if port["device_id"]:
            raise errors.PortInUse(
                port_id=port["id"], net_id=port["network_id"], device_id=port["device_id"]
            )
        if not port["fixed_ips"]:
            raise errors.BadRequest(
                resource="router", msg="Router port must have at least one fixed IP"
            )
        subnets = await self._bus.call(
            LookupSubnets(ids=[f["subnet_id"] for f in port["fixed_ips"]])
        )
        v4 = {s["id"] for s in subnets.values() if s["ip_version"] == 4}
        if len(v4) > 1:
            raise errors.BadRequest(
                resource="router", msg="Cannot have multiple IPv4 subnets on router port"
            )
        for subnet in subnets.values():
            await self._check_attachable(router, interfaces, subnet)
        port = await self._bus.call(
            SetServicePort(
                port_id=port["id"],
                changes={
                    "device_owner": INTERFACE,
                    "device_id": router["id"],
                    "security_groups": [],
                },
                revision=port["revision_number"],
            )
        )
        for subnet_id in subnets:
            await self._bus.call(SetAttachedRouter(subnet_id=subnet_id, router_id=router["id"]))
        return port

    async def _remove(
        self,
        ctx: RequestContext,
        router: dict[str, Any],
        interfaces: list[dict[str, Any]],
        subnet_id: str | None,
        port_id: str | None,
    ) -> dict[str, Any]:
        if port_id is not None:
            port = next((p for p in interfaces if p["id"] == port_id), None)
            if port is None:
                raise errors.RouterInterfaceNotFound(router_id=router["id"], port_id=port_id)
            if subnet_id is not None and subnet_id not in subnet_ids([port]):
                raise errors.BadRequest(
                    resource="router", msg=f"Subnet {subnet_id} is not on port {port_id}"
                )
        else:
            port = next((p for p in interfaces if subnet_id in subnet_ids([p])), None)
            if port is None:
                raise errors.RouterInterfaceNotFoundForSubnet(
                    router_id=router["id"], subnet_id=subnet_id
                )
        removed = subnet_ids([port])
        await self._check_removable(router, interfaces, port, removed)
        await self._bus.call(DeleteServicePort(port_id=port["id"]))
        for sid in removed:
            await self._bus.call(
                SetAttachedRouter(subnet_id=sid, router_id=router["id"], attached=False)
            )
        return port

    async def _check_removable(
        self,
        router: dict[str, Any],
        interfaces: list[dict[str, Any]],
        port: dict[str, Any],
        removed: list[str],
    ) -> None:
        fips = await self._bus.call(FloatingIpsOfRouter(router_id=router["id"]))
        gateway = (router.get("external_gateway_info") or {}).get("network_id")
        if any(f["floating_network_id"] == port["network_id"] != gateway for f in fips):
            # router-interface-fip: this interface is how the floating IPs leave.
            raise errors.RouterInterfaceInUseAsGatewayByFloatingIP(
                subnet_id=removed[0], router_id=router["id"]
            )
        if fips:
            ports = await self._bus.call(LookupPorts(ids=[f["port_id"] for f in fips]))
            for fip in fips:
                fixed = ports.get(fip["port_id"], {}).get("fixed_ips", [])
                if any(
                    f["subnet_id"] in removed and f["ip_address"] == fip["fixed_ip_address"]
                    for f in fixed
                ):
                    raise errors.RouterInterfaceInUseByFloatingIP(
                        subnet_id=removed[0], router_id=router["id"]
                    )
        remaining = [p for p in interfaces if p["id"] != port["id"]]
        still = await connected_subnets(self._bus, router, remaining)
        for route in router["routes"]:
            hop = ipaddress.ip_address(route["nexthop"])
            if not any(hop in ipaddress.ip_network(s["cidr"]) for s in still):
                raise errors.RouterInterfaceInUseByRoute(
                    subnet_id=removed[0], router_id=router["id"]
                )

    async def _bump_neighbors(self, subnet_ids: set[str]) -> None:
        port_ids: list[str] = []
        for subnet_id in subnet_ids:
            port_ids += [p["id"] for p in await self._bus.call(QueryPorts(subnet_id=subnet_id))]
        if port_ids:
            await self._bus.call(BumpNeighbors(port_ids=list(dict.fromkeys(port_ids))))


async def interfaces_of(bus: Bus, router_id: str) -> list[dict[str, Any]]:
    """Return the router's interface ports."""
    return await bus.call(QueryPorts(device_id=router_id, device_owner=INTERFACE))


def subnet_ids(ports: list[dict[str, Any]]) -> list[str]:
    """Return the subnets the ports have addresses in, each once, in order."""
    return list(dict.fromkeys(f["subnet_id"] for p in ports for f in p["fixed_ips"]))


async def connected_subnets(
    bus: Bus, router: dict[str, Any], interfaces: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    ids = subnet_ids(interfaces)
    gateway = router.get("external_gateway_info") or {}
    ids += [f["subnet_id"] for f in gateway.get("external_fixed_ips") or []]
    found = await bus.call(LookupSubnets(ids=ids))
    return [found[i] for i in ids if i in found]


async def publish_changed(
    bus: Bus, router: dict[str, Any], touched: set[str] | None = None
) -> None:
    current = subnet_ids(await interfaces_of(bus, router["id"]))
    bus.publish(
        RouterChanged(router=dict(router), subnet_ids=frozenset(current) | frozenset(touched or ()))
    )


def _interface_id(value: Any) -> str | None:
    """Return a router interface body's subnet_id/port_id as a UUID; 400 when it is not one."""
    if value is None:
        return None
    try:
        return Uuid().convert(value)
    except Invalid as exc:
        raise errors.BadRequest(resource="router", msg=str(exc)) from None
