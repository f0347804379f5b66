"""Extra routes of a router: set on create or update, added or removed atomically."""

from __future__ import annotations

import ipaddress
from typing import Any

from alcor.bus import Bus
from alcor.config import RouterConfig
from alcor.managers.common import bump, check_write
from alcor.managers.router import routes as route_rules
from alcor.managers.router.interfaces import (
    GetVisible,
    connected_subnets,
    interfaces_of,
    publish_changed,
)
from alcor.managers.router.messages import EditExtraRoutes
from alcor.resources import repo
from alcor.resources.records import Route
from alcor.resources.router import ROUTER
from alcor.store import Store


class ExtraRoutes:
    """Store extra routes after checking them against the router's connected subnets."""

    def __init__(
        self, bus: Bus, store: Store, config: RouterConfig, get_visible: GetVisible
    ) -> None:
        self._bus = bus
        self._store = store
        self._config = config
        self._get_visible = get_visible

    async def set(self, router: dict[str, Any], routes: list[Route]) -> None:
        """Check and store the router's extra routes (canonical form)."""
        interfaces = await interfaces_of(self._bus, router["id"])
        subnets = await connected_subnets(self._bus, router, interfaces)
        gateway = router.get("external_gateway_info") or {}
        own_ips = {f["ip_address"] for p in interfaces for f in p["fixed_ips"]}
        own_ips |= {f["ip_address"] for f in gateway.get("external_fixed_ips") or []}
        route_rules.check(router["id"], routes, subnets, own_ips, self._config.max_routes)
        canonical = [route_rules.canonical(r) for r in routes]
        await repo.update(self._store, ROUTER, router["id"], {"routes": canonical})
        router["routes"] = canonical

    async def edit(self, cmd: EditExtraRoutes) -> dict[str, Any]:
        """add_extraroutes / remove_extraroutes: set union or removal, atomically."""
        async with self._store.transaction():
            router = await self._get_visible(cmd.ctx, cmd.id)
            check_write(cmd.ctx, router, "update_router")
            current = list(router["routes"])
            wanted = route_set(cmd.routes)
            if cmd.add:
                new = current + [r for r in cmd.routes if route_key(r) not in route_set(current)]
                new = list({route_key(r): r for r in new}.values())
            else:
                new = [r for r in current if route_key(r) not in wanted]
            if route_set(new) != route_set(current) or len(new) != len(current):
                await self.set(router, new)
                await repo.update(self._store, ROUTER, router["id"], bump(router, {}))
                await publish_changed(self._bus, router)
        return router


def route_key(route: Route) -> tuple[str, str]:
    """Return a route's (destination, nexthop) in canonical text (as given when invalid)."""
    try:
        return (
            str(ipaddress.ip_network(route["destination"])),
            str(ipaddress.ip_address(route["nexthop"])),
        )
    except ValueError:
        return (route["destination"], route["nexthop"])


def route_set(routes: list[Route]) -> set[tuple[str, str]]:
    """Return the routes as a set of keys."""
    return {route_key(r) for r in routes}
