"""Router manager: distributed routers, their interfaces, gateway and extra routes."""

from __future__ import annotations

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
    check_write,
    deny,
    new_record,
    zones_of,
)
from alcor.managers.flavor.messages import CheckFlavor
from alcor.managers.network.messages import GetNetwork
from alcor.managers.port.messages import QueryPorts
from alcor.managers.quota.messages import CheckQuota, RegisterUsageCounter
from alcor.managers.router.extra_routes import ExtraRoutes, route_set
from alcor.managers.router.gateway import RouterGateway, gateway_changes
from alcor.managers.router.interfaces import (
    INTERFACE,
    RouterInterfaces,
    interfaces_of,
    publish_changed,
)
from alcor.managers.router.messages import (
    CreateRouters,
    DeleteRouter,
    EditExtraRoutes,
    FindRouterForFloatingIp,
    GetRouter,
    ListRouters,
    LookupRouters,
    RouterDeleted,
    RouterInterface,
    UpdateRouter,
    ViewRouters,
)
from alcor.resources import repo
from alcor.resources.flavor import L3_SERVICE_TYPE
from alcor.resources.router import ROUTER
from alcor.store import Store
from alcor.store.revisions import tombstone

_LOGGER = logging.getLogger(__name__)
repo.register_extra_columns(ROUTER, ("gw_port_id",))


class RouterManager(ResourceManager):
    """Create, read, update and delete routers; add and remove their interfaces."""

    resource = ROUTER
    name = "router"
    requires = ("store", "bus", "quota", "network", "subnet", "port", "floatingip")

    def __init__(
        self, bus: Bus, store: Store, config: RouterConfig, zones: tuple[str, ...] = ("nova",)
    ) -> None:
        super().__init__(bus, store)
        self._config = config
        self._zones = zones
        self._gateway = RouterGateway(bus, store, config)
        self._routes = ExtraRoutes(bus, store, config, self.get_visible)
        self._interfaces = RouterInterfaces(bus, store, self.get_visible)

    async def start(self) -> None:
        """Register the router commands."""
        self._bus.handle(CreateRouters, self.create)
        self._bus.handle(GetRouter, self.get)
        self._bus.handle(ViewRouters, self.view)
        self._bus.handle(ListRouters, self.list_visible)
        self._bus.handle(UpdateRouter, self.update)
        self._bus.handle(DeleteRouter, self.delete)
        self._bus.handle(RouterInterface, self._interfaces.handle)
        self._bus.handle(EditExtraRoutes, self._edit_routes)
        self._bus.handle(FindRouterForFloatingIp, self._find_for_fip)
        self._bus.handle(LookupRouters, self._lookup_many)
        await self._bus.call(
            RegisterUsageCounter(resource="router", counter=repo.usage_counter(ROUTER))
        )

    async def decorate(self, objs: Any) -> list[dict[str, Any]]:
        """Add availability_zones (router_availability_zone): the hints, else every zone."""
        out = list(objs)
        for router in out:
            router["availability_zones"] = zones_of(router["availability_zone_hints"], self._zones)
        return out

    async def _edit_routes(self, cmd: EditExtraRoutes) -> dict[str, Any]:
        return (await self.decorate([await self._routes.edit(cmd)]))[0]

    async def _lookup_many(self, cmd: LookupRouters) -> dict[str, dict[str, Any]]:
        return await repo.get_many(self._store, ROUTER, cmd.ids)

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
                zones_of(item.get("availability_zone_hints") or [], self._zones)
                counts[project] = counts.get(project, 0) + 1
            for project, count in counts.items():
                await self._bus.call(CheckQuota(project_id=project, resource="router", count=count))
            for item in cmd.items:
                out.append(await self._create_one(cmd.ctx, item))
        return await self.decorate(out)

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
        db = self._store
        router = await new_record(db, ROUTER, given, "Router")
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
        await repo.insert(db, ROUTER, router)
        if gateway:
            await self._gateway.set(ctx, router, gateway)
        if given.get("routes"):  # None (null) means no routes
            await self._routes.set(router, given["routes"])
        return router

    # ---- update ------------------------------------------------------------------------
    async def update(self, cmd: UpdateRouter) -> dict[str, Any]:
        """Update a router (partial): name, admin state, gateway, routes, tags."""
        async with self._store.transaction():
            router = await self.get_visible(cmd.ctx, cmd.id)
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
            if "external_gateway_info" in given and gateway_changes(router, given):
                await self._gateway.set(cmd.ctx, router, given["external_gateway_info"] or None)
                touched = True
            if "routes" in given and route_set(given["routes"]) != route_set(router["routes"]):
                await self._routes.set(router, given["routes"])
                touched = True
            if diff or touched:
                await repo.update(self._store, ROUTER, router["id"], bump(router, diff))
                if touched or "admin_state_up" in diff:
                    await publish_changed(self._bus, router)
        return (await self.decorate([router]))[0]

    # ---- delete ------------------------------------------------------------------------
    async def delete(self, cmd: DeleteRouter) -> None:
        """Delete a router without interfaces (its gateway port goes with it)."""
        async with self._store.transaction():
            router = await self.writable(cmd.ctx, cmd.id, "delete_router", cmd.if_match)
            if await interfaces_of(self._bus, router["id"]):
                raise errors.RouterInUse(router_id=router["id"])
            if router["external_gateway_info"]:
                await self._gateway.set(cmd.ctx, router, None)
            await repo.delete(self._store, ROUTER, router["id"])
            await tombstone(self._store, "router", router)
            self._bus.publish(RouterDeleted(router=router))

    async def _find_for_fip(self, cmd: FindRouterForFloatingIp) -> str | None:
        """The router joining the subnet to the floating network: by its gateway, else by
        an interface on that network (router-interface-fip)."""
        ports = await self._bus.call(QueryPorts(subnet_id=cmd.subnet_id, device_owner=INTERFACE))
        routers = [r for p in ports if (r := await self.lookup(p["device_id"])) is not None]
        for router in routers:
            gateway = router.get("external_gateway_info") or {}
            if gateway.get("network_id") == cmd.network_id:
                router_id: str = router["id"]
                return router_id
        for router in routers:
            legs = await self._bus.call(
                QueryPorts(
                    network_id=cmd.network_id, device_id=router["id"], device_owner=INTERFACE
                )
            )
            if legs:
                return str(router["id"])
        return None
