"""Router manager: distributed routers, their interfaces, gateway and extra routes."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import RouterConfig
from alcor.managers.base import ResourceManager, apply_tag_op
from alcor.managers.common import (
    RequestContext,
    bump,
    changed,
    check_create_project,
    check_if_match,
    check_new_id,
    check_write,
    deny,
    first_revision,
    stamp_new,
    tombstone,
)
from alcor.managers.flavor.messages import CheckFlavor
from alcor.managers.floatingip.messages import FloatingIpsOfRouter
from alcor.managers.network.messages import GetNetwork
from alcor.managers.port.messages import (
    BumpNeighbors,
    CreateServicePort,
    DeleteServicePort,
    GetPort,
    LookupPorts,
    QueryPorts,
    SetServicePort,
)
from alcor.managers.quota.messages import CheckQuota, RegisterUsageCounter
from alcor.managers.router import routes as route_rules
from alcor.managers.router.messages import (
    CreateRouters,
    DeleteRouter,
    EditExtraRoutes,
    FindRouterForFloatingIp,
    GetRouter,
    ListRouters,
    LookupRouters,
    RouterChanged,
    RouterDeleted,
    RouterInterface,
    UpdateRouter,
)
from alcor.managers.subnet.messages import (
    GetSubnet,
    LookupSubnets,
    SetAttachedRouter,
    SubnetsOfNetwork,
)
from alcor.resources import repo
from alcor.resources.base import bad, defaults
from alcor.resources.flavor import L3_SERVICE_TYPE
from alcor.resources.router import ROUTER
from alcor.resources.types import Invalid, Uuid
from alcor.store import Store

_LOGGER = logging.getLogger(__name__)
repo.register_extra_columns(ROUTER, ("gw_port_id",))
INTERFACE = "network:router_interface"
GATEWAY = "network:router_gateway"


class RouterManager(ResourceManager):
    """Create, read, update and delete routers; add and remove their interfaces."""

    resource = ROUTER
    name = "router"
    requires = ("store", "bus", "quota", "network", "subnet", "port", "floatingip")

    def __init__(self, bus: Bus, store: Store, config: RouterConfig) -> None:
        super().__init__(bus, store)
        self._config = config

    async def start(self) -> None:
        """Register the router commands."""
        for command, handler in (
            (CreateRouters, self.create),
            (GetRouter, self.get),
            (ListRouters, self.list),
            (UpdateRouter, self.update),
            (DeleteRouter, self.delete),
            (RouterInterface, self.interface),
            (EditExtraRoutes, self.edit_routes),
            (FindRouterForFloatingIp, self._find_for_fip),
            (LookupRouters, self._lookup_many),
        ):
            self._bus.handle(command, handler)
        await self._bus.call(RegisterUsageCounter(resource="router", counter=_count))

    async def _lookup_many(self, cmd: LookupRouters) -> dict[str, dict[str, Any]]:
        return repo.get_many(self._store.db, ROUTER, cmd.ids)

    # ---- create ------------------------------------------------------------------------
    async def create(self, cmd: CreateRouters) -> list[dict[str, Any]]:
        """Create routers (with their gateway ports) in one transaction."""
        out = []
        async with self._store.transaction():
            counts: dict[str, int] = {}
            for item in cmd.items:
                project = check_create_project(cmd.ctx, item, "create_router")
                self._check_policy(cmd.ctx, item, "create_router", creating=True)
                await self._check_gateway_network(cmd.ctx, item)
                await self._check_flavor(item)
                counts[project] = counts.get(project, 0) + 1
            for project, count in counts.items():
                await self._bus.call(CheckQuota(project_id=project, resource="router", count=count))
            for item in cmd.items:
                out.append(await self._create_one(cmd.ctx, item))
        return out

    def _check_policy(
        self, ctx: RequestContext, given: dict[str, Any], action: str, creating: bool
    ) -> None:
        if ctx.is_admin:
            return
        for name in ("distributed", "ha"):  # admin-only, whatever the value (Neutron's policy)
            if name in given:
                raise deny(f"{action}:{name}")
        gateway = given.get("external_gateway_info") or {}
        if "enable_snat" in gateway and not (
            creating and gateway["enable_snat"] == self._config.enable_snat_by_default
        ):
            raise deny(f"{action}:external_gateway_info:enable_snat")
        if gateway.get("external_fixed_ips"):
            raise deny(f"{action}:external_gateway_info:external_fixed_ips")

    async def _check_flavor(self, given: dict[str, Any]) -> None:
        """l3-flavors: an existing, enabled router flavor; not with distributed or ha."""
        if given.get("flavor_id") is None:
            return
        if "distributed" in given or "ha" in given:
            raise errors.BadRequest(
                resource="router", msg="Cannot specify both a flavor and distributed or ha"
            )
        await self._bus.call(
            CheckFlavor(flavor_id=given["flavor_id"], service_type=L3_SERVICE_TYPE)
        )

    async def _check_gateway_network(self, ctx: RequestContext, given: dict[str, Any]) -> None:
        """404 for an invisible gateway network (before quota); on native paths a gateway on
        a non-external network is treated as absent (northbound §1.5)."""
        gateway = given.get("external_gateway_info")
        if not gateway:
            return
        network = await self._bus.call(GetNetwork(ctx=ctx, id=gateway["network_id"]))
        if ctx.native and not network["router:external"]:
            del given["external_gateway_info"]

    async def _create_one(self, ctx: RequestContext, given: dict[str, Any]) -> dict[str, Any]:
        db = self._store.db
        check_new_id(db, ROUTER, given, "Router")
        router = defaults(ROUTER, given)
        stamp_new(router, first_revision(db, "router", router["id"]) if "id" in given else 1)
        router.update(
            {
                "status": "ACTIVE",
                "tags": sorted(set(router["tags"])),
                "external_gateway_info": None,
                "gw_port_id": None,
                "routes": [],
            }
        )
        gateway = given.get("external_gateway_info")
        repo.insert(db, ROUTER, router)
        if gateway:
            await self._set_gateway(ctx, router, gateway)
        if given.get("routes"):  # None (null) means no routes
            await self._set_routes(router, given["routes"])
        return router

    # ---- gateway -----------------------------------------------------------------------
    async def _set_gateway(
        self, ctx: RequestContext, router: dict[str, Any], gateway: dict[str, Any] | None
    ) -> None:
        """Create, replace or clear the gateway port; store external_gateway_info."""
        current = router.get("external_gateway_info")
        if (
            gateway
            and current
            and gateway["network_id"] == current["network_id"]
            and "external_fixed_ips" not in gateway
        ):
            info = dict(current, enable_snat=gateway.get("enable_snat", current["enable_snat"]))
            repo.update(self._store.db, ROUTER, router["id"], {"external_gateway_info": info})
            router["external_gateway_info"] = info
            return
        if current and (not gateway or gateway["network_id"] != current["network_id"]):
            fips = await self._bus.call(FloatingIpsOfRouter(router_id=router["id"]))
            if any(f["floating_network_id"] == current["network_id"] for f in fips):
                raise errors.RouterExternalGatewayInUseByFloatingIp(
                    router_id=router["id"], net_id=current["network_id"]
                )
        if router.get("gw_port_id"):
            await self._bus.call(DeleteServicePort(port_id=router["gw_port_id"]))
        info, port_id = None, None
        if gateway:
            network = await self._bus.call(GetNetwork(ctx=ctx, id=gateway["network_id"]))
            if not network["router:external"]:
                raise errors.BadRequest(
                    resource="router",
                    msg=f"Network {network['id']} is not a valid external network",
                )
            port = await self._gateway_port(router, network, gateway.get("external_fixed_ips"))
            port_id = port["id"]
            info = {
                "network_id": network["id"],
                "enable_snat": gateway.get("enable_snat", self._config.enable_snat_by_default),
                "external_fixed_ips": port["fixed_ips"],
            }
        repo.update(
            self._store.db,
            ROUTER,
            router["id"],
            {"external_gateway_info": info, "gw_port_id": port_id},
        )
        router["external_gateway_info"], router["gw_port_id"] = info, port_id

    async def _gateway_port(
        self,
        router: dict[str, Any],
        network: dict[str, Any],
        fixed_ips: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        base = {
            "network_id": network["id"],
            "project_id": "",
            "device_owner": GATEWAY,
            "device_id": router["id"],
        }
        if fixed_ips:
            return await self._bus.call(CreateServicePort(**base, fixed_ips=fixed_ips))
        subnets = await self._bus.call(SubnetsOfNetwork(network_id=network["id"]))
        for subnet in (s for s in subnets if s["ip_version"] == 4):
            try:
                async with self._store.transaction():
                    return await self._bus.call(
                        CreateServicePort(**base, fixed_ips=[{"subnet_id": subnet["id"]}])
                    )
            except errors.IpAddressGenerationFailure:
                continue
        if not subnets:
            return await self._bus.call(CreateServicePort(**base, fixed_ips=[]))
        raise errors.IpAddressGenerationFailure(net_id=network["id"])

    # ---- update ------------------------------------------------------------------------
    async def update(self, cmd: UpdateRouter) -> dict[str, Any]:
        """Update a router (partial): name, admin state, gateway, routes, tags."""
        async with self._store.transaction():
            router = self.get_visible(cmd.ctx, cmd.id)
            check_write(cmd.ctx, router, "update_router")
            self._check_policy(cmd.ctx, cmd.changes, "update_router", creating=False)
            check_if_match(router, cmd.if_match)
            given = dict(cmd.changes)
            if "routes" in given and given["routes"] is None:
                given["routes"] = []  # null clears the routes, as [] does
            await self._check_gateway_network(cmd.ctx, given)
            if cmd.tag_op is not None:
                given["tags"] = apply_tag_op(ROUTER, router, cmd.tag_op)
            diff = changed(
                router,
                {k: v for k, v in given.items() if k not in ("external_gateway_info", "routes")},
            )
            if "distributed" in diff and (
                router["admin_state_up"] or given.get("admin_state_up", False)
            ):
                # router-admin-state-down-before-update, as Neutron: `distributed` changes
                # only on a router that is down before and after the update.
                raise errors.BadRequest(
                    resource="router",
                    msg=(
                        "Cannot change the 'distributed' attribute of active routers. Please set "
                        "router admin_state_up to False prior to upgrade"
                    ),
                )
            touched = False
            if "external_gateway_info" in given and _gateway_changes(router, given):
                await self._set_gateway(cmd.ctx, router, given["external_gateway_info"] or None)
                touched = True
            if "routes" in given and _route_set(given["routes"]) != _route_set(router["routes"]):
                await self._set_routes(router, given["routes"])
                touched = True
            if diff or touched:
                repo.update(self._store.db, ROUTER, router["id"], bump(router, diff))
                if touched or "admin_state_up" in diff:
                    await self._publish_changed(router)
        return router

    async def _set_routes(self, router: dict[str, Any], routes: list[dict[str, str]]) -> None:
        interfaces = await self._interfaces(router["id"])
        subnets = await self._connected_subnets(router, interfaces)
        gateway = router.get("external_gateway_info") or {}
        own_ips = {f["ip_address"] for p in interfaces for f in p["fixed_ips"]}
        own_ips |= {f["ip_address"] for f in gateway.get("external_fixed_ips") or []}
        route_rules.check(router["id"], routes, subnets, own_ips, self._config.max_routes)
        canonical = [route_rules.canonical(r) for r in routes]
        repo.update(self._store.db, ROUTER, router["id"], {"routes": canonical})
        router["routes"] = canonical

    async def edit_routes(self, cmd: EditExtraRoutes) -> dict[str, Any]:
        """add_extraroutes / remove_extraroutes: set union or removal, atomically."""
        async with self._store.transaction():
            router = self.get_visible(cmd.ctx, cmd.id)
            check_write(cmd.ctx, router, "update_router")
            current = list(router["routes"])
            wanted = _route_set(cmd.routes)
            if cmd.add:
                new = current + [r for r in cmd.routes if _key(r) not in _route_set(current)]
                new = list({_key(r): r for r in new}.values())
            else:
                new = [r for r in current if _key(r) not in wanted]
            if _route_set(new) != _route_set(current) or len(new) != len(current):
                await self._set_routes(router, new)
                repo.update(self._store.db, ROUTER, router["id"], bump(router, {}))
                await self._publish_changed(router)
        return router

    # ---- delete ------------------------------------------------------------------------
    async def delete(self, cmd: DeleteRouter) -> None:
        """Delete a router without interfaces (its gateway port goes with it)."""
        async with self._store.transaction():
            router = self.get_visible(cmd.ctx, cmd.id)
            check_write(cmd.ctx, router, "delete_router")
            check_if_match(router, cmd.if_match)
            if await self._interfaces(router["id"]):
                raise errors.RouterInUse(router_id=router["id"])
            if router["external_gateway_info"]:
                await self._set_gateway(cmd.ctx, router, None)
            repo.delete(self._store.db, ROUTER, router["id"])
            tombstone(self._store.db, "router", router["id"], router["revision_number"] + 1)
            self._bus.publish(RouterDeleted(router=router))

    # ---- interfaces --------------------------------------------------------------------
    async def _interfaces(self, router_id: str) -> list[dict[str, Any]]:
        return await self._bus.call(QueryPorts(device_id=router_id, device_owner=INTERFACE))

    @staticmethod
    def _subnet_ids(ports: list[dict[str, Any]]) -> list[str]:
        return list(dict.fromkeys(f["subnet_id"] for p in ports for f in p["fixed_ips"]))

    async def _connected_subnets(
        self, router: dict[str, Any], interfaces: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        ids = self._subnet_ids(interfaces)
        gateway = router.get("external_gateway_info") or {}
        ids += [f["subnet_id"] for f in gateway.get("external_fixed_ips") or []]
        found = await self._bus.call(LookupSubnets(ids=ids))
        return [found[i] for i in ids if i in found]

    async def interface(self, cmd: RouterInterface) -> dict[str, Any]:
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
            router = self.get_visible(cmd.ctx, cmd.id)
            check_write(
                cmd.ctx, router, "add_router_interface" if cmd.add else "remove_router_interface"
            )
            before = await self._interfaces(router["id"])
            if cmd.add:
                port = await (
                    self._add_by_port(cmd.ctx, router, before, port_id)
                    if port_id
                    else self._add_by_subnet(cmd.ctx, router, before, subnet_id)
                )
            else:
                port = await self._remove(cmd.ctx, router, before, subnet_id, port_id)
            after = await self._interfaces(router["id"])
            repo.update(self._store.db, ROUTER, router["id"], bump(router, {}))
            touched = set(self._subnet_ids(before)) | set(self._subnet_ids(after))
            await self._bump_neighbors(touched)
            await self._publish_changed(router, touched)
        subnet_ids = [f["subnet_id"] for f in port["fixed_ips"]]
        return {
            "id": router["id"],
            "network_id": port["network_id"],
            "port_id": port["id"],
            "subnet_id": subnet_ids[0] if subnet_ids else None,
            "subnet_ids": subnet_ids,
            "project_id": router["project_id"],
            "tenant_id": router["project_id"],
            "tags": [],
        }

    async def _check_attachable(
        self, router: dict[str, Any], interfaces: list[dict[str, Any]], subnet: dict[str, Any]
    ) -> None:
        attached = self._subnet_ids(interfaces)
        if subnet["id"] in attached:
            raise errors.BadRequest(
                resource="router", msg=f"Router already has a port on subnet {subnet['id']}"
            )
        if subnet.get("attached_router_id") and subnet["attached_router_id"] != router["id"]:
            raise errors.SubnetInUse(
                subnet_id=subnet["id"],
                reason=f"subnet is already attached to router {subnet['attached_router_id']}",
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
            if subnet_id is not None and subnet_id not in self._subnet_ids([port]):
                raise errors.BadRequest(
                    resource="router", msg=f"Subnet {subnet_id} is not on port {port_id}"
                )
        else:
            port = next((p for p in interfaces if subnet_id in self._subnet_ids([p])), None)
            if port is None:
                raise errors.RouterInterfaceNotFoundForSubnet(
                    router_id=router["id"], subnet_id=subnet_id
                )
        removed = self._subnet_ids([port])
        await self._check_removable(router, interfaces, port, removed)
        await self._bus.call(DeleteServicePort(port_id=port["id"]))
        for sid in removed:
            await self._bus.call(SetAttachedRouter(subnet_id=sid, router_id=None))
        return port

    async def _check_removable(
        self,
        router: dict[str, Any],
        interfaces: list[dict[str, Any]],
        port: dict[str, Any],
        removed: list[str],
    ) -> None:
        fips = await self._bus.call(FloatingIpsOfRouter(router_id=router["id"]))
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
        still = await self._connected_subnets(router, remaining)
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

    async def _publish_changed(
        self, router: dict[str, Any], touched: set[str] | None = None
    ) -> None:
        current = self._subnet_ids(await self._interfaces(router["id"]))
        self._bus.publish(
            RouterChanged(
                router=dict(router), subnet_ids=frozenset(current) | frozenset(touched or ())
            )
        )

    async def _find_for_fip(self, cmd: FindRouterForFloatingIp) -> str | None:
        ports = await self._bus.call(QueryPorts(subnet_id=cmd.subnet_id, device_owner=INTERFACE))
        for port in ports:
            router = self.lookup(port["device_id"])
            gateway = (router or {}).get("external_gateway_info") or {}
            if gateway.get("network_id") == cmd.network_id:
                return router["id"]
        return None


def _key(route: dict[str, str]) -> tuple[str, str]:
    try:
        return (
            str(ipaddress.ip_network(route["destination"])),
            str(ipaddress.ip_address(route["nexthop"])),
        )
    except ValueError:
        return (route["destination"], route["nexthop"])


def _route_set(routes: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {_key(r) for r in routes}


def _gateway_changes(router: dict[str, Any], given: dict[str, Any]) -> bool:
    new = given["external_gateway_info"] or None
    current = router.get("external_gateway_info")
    if not new or not current:
        return bool(new) != bool(current)
    return (
        new["network_id"] != current["network_id"]
        or "external_fixed_ips" in new
        or new.get("enable_snat", current["enable_snat"]) != current["enable_snat"]
    )


def _count(db: Any, project_id: str) -> int:
    return db.execute("SELECT COUNT(*) FROM routers WHERE project_id = ?", [project_id]).fetchone()[
        0
    ]


def _interface_id(value: Any) -> str | None:
    """Return a router interface body's subnet_id/port_id as a UUID; 400 when it is not one."""
    if value is None:
        return None
    try:
        return Uuid().convert(value)
    except Invalid as exc:
        raise errors.BadRequest(resource="router", msg=str(exc)) from None
