"""Router actions (interfaces, extra routes) and network IP availability endpoints."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDict

from alcor import errors
from alcor.api import http
from alcor.api.listing import bad, links, parse_list_query
from alcor.api.openapi import wrapped
from alcor.api.resources import renderer
from alcor.api.routing import Handler, Route, Router
from alcor.managers.common import RequestContext, deny
from alcor.managers.ipam.messages import SubnetAvailability
from alcor.managers.network.messages import GetNetwork, ListNetworks
from alcor.managers.router.messages import EditExtraRoutes, RouterInterface
from alcor.managers.subnet.messages import SubnetsOfNetwork
from alcor.resources.base import convert
from alcor.resources.network import NETWORK
from alcor.resources.repo import ListQuery
from alcor.resources.router import ROUTER
from alcor.resources.types import Uuid


def add_router_action_routes(router: Router, alcor: Any) -> None:
    """PUT routers/{id}/add_router_interface|remove_router_interface|add_extraroutes|…"""
    default_project = alcor.config.auth.default_project

    def interface(add: bool) -> Handler:
        async def handler(request: web.Request, params: dict[str, str]) -> web.Response:
            body = await http.read_json(request)
            if not isinstance(body, dict):
                raise bad("Malformed request body")
            action = "add_router_interface" if add else "remove_router_interface"
            ctx = http.context(request, params, action, default_project)
            result = await alcor.bus.call(
                RouterInterface(ctx=ctx, id=params["id"], body=body, add=add)
            )
            return http.json_response(result)

        return handler

    def extraroutes(add: bool) -> Handler:
        async def handler(request: web.Request, params: dict[str, str]) -> web.Response:
            body = await http.read_json(request)
            items, _ = http.unwrap(body, "router", None, allow_bulk=False)
            item = items[0]
            if not isinstance(item, dict) or set(item) != {"routes"} or item["routes"] is None:
                raise bad("Unable to find 'routes' in the router body")
            routes = convert(ROUTER.by_name["routes"], item["routes"])
            ctx = http.context(request, params, "update_router", default_project)
            result = await alcor.bus.call(
                EditExtraRoutes(ctx=ctx, id=params["id"], routes=routes, add=add)
            )
            return http.json_response({"router": renderer(ROUTER, ctx)(result)})

        return handler

    for base, alias in (
        ("/v2.0/routers/{id}", None),
        ("/project/{project_id}/routers/{id}", "/v2.0/routers/{id}"),
    ):
        for name, handler, body in (
            ("add_router_interface", interface(True), INTERFACE_BODY),
            ("remove_router_interface", interface(False), INTERFACE_BODY),
            ("add_extraroutes", extraroutes(True), ROUTES_BODY),
            ("remove_extraroutes", extraroutes(False), ROUTES_BODY),
        ):
            router.add(
                Route(
                    "PUT",
                    f"{base}/{name}",
                    handler,
                    resource="router",
                    action=name,
                    alias_of=f"{alias}/{name}" if alias else None,
                    body=body,
                )
            )


# Exactly one of subnet_id and port_id (§6.3).
INTERFACE_BODY = {
    "type": "object",
    "properties": {"subnet_id": Uuid().schema(), "port_id": Uuid().schema()},
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}
ROUTES_BODY = wrapped("router", wrapped("routes", ROUTER.by_name["routes"].type.schema()))


AVAILABILITY_FILTERS = ("network_id", "network_name", "project_id", "tenant_id", "ip_version")
# Availability items are keyed by network: their sort keys name network columns.
AVAILABILITY_SORT = {
    "network_id": "id",
    "network_name": "name",
    "project_id": "project_id",
    "tenant_id": "project_id",
}


def _ip_version(raw: str | None) -> int | None:
    if raw is None:
        return None
    if raw not in ("4", "6"):
        raise bad(f"Invalid input for ip_version. Reason: '{raw}' is not in [4, 6].")
    return int(raw)


def _availability_sort(q: Any) -> list[tuple[str, bool]]:
    keys, dirs = q.getall("sort_key", []), q.getall("sort_dir", [])
    if dirs and len(dirs) != len(keys):
        raise bad("The number of sort_keys and sort_dirs must be same")
    out = []
    for i, key in enumerate(keys):
        if key not in AVAILABILITY_SORT:
            raise bad(f"{key} is an invalid attribute for sort_keys")
        direction = dirs[i] if dirs else "asc"
        if direction not in ("asc", "desc"):
            raise bad(
                f"{direction} is an invalid value for sort_dirs, valid values are 'asc' and 'desc'"
            )
        out.append((AVAILABILITY_SORT[key], direction == "asc"))
    return out


def add_ip_availability_routes(router: Router, alcor: Any) -> None:
    """GET network-ip-availabilities (admin only), also under the native paths."""
    default_project = alcor.config.auth.default_project

    async def availability(network: dict[str, Any], ip_version: int | None) -> dict[str, Any]:
        subnets = await alcor.bus.call(SubnetsOfNetwork(network_id=network["id"]))
        items = []
        for subnet in subnets:
            if ip_version is not None and subnet["ip_version"] != ip_version:
                continue
            total, used = await alcor.bus.call(SubnetAvailability(subnet_id=subnet["id"]))
            items.append(
                {
                    "subnet_id": subnet["id"],
                    "subnet_name": subnet["name"],
                    "cidr": subnet["cidr"],
                    "ip_version": subnet["ip_version"],
                    "total_ips": total,
                    "used_ips": used,
                }
            )
        return {
            "network_id": network["id"],
            "network_name": network["name"],
            "project_id": network["project_id"],
            "tenant_id": network["project_id"],
            "total_ips": sum(i["total_ips"] for i in items),
            "used_ips": sum(i["used_ips"] for i in items),
            "subnet_ip_availability": items,
        }

    def _admin_ctx(request: web.Request, params: dict[str, str]) -> RequestContext:
        ctx = http.context(request, params, "get_network_ip_availability", default_project)
        if not ctx.is_admin:
            raise deny("get_network_ip_availability")
        return ctx

    async def list_handler(request: web.Request, params: dict[str, str]) -> web.Response:
        ctx = _admin_ctx(request, params)
        query = ListQuery()
        q = request.query
        for key in q:
            if key not in (
                *AVAILABILITY_FILTERS,
                "fields",
                "sort_key",
                "sort_dir",
                "limit",
                "marker",
                "page_reverse",
            ):
                raise bad(f"'{key}' is an invalid attribute for filtering")
        ip_version = _ip_version(q.get("ip_version"))
        base = parse_list_query(
            MultiDict((k, v) for k, v in q.items() if k not in ("sort_key", "sort_dir")),
            NETWORK,
            ("id", "name", "project_id", "tenant_id"),
            alcor.config.api.pagination_max_limit,
            ignore=AVAILABILITY_FILTERS,
        )
        query.sort = _availability_sort(q)
        query.limit, query.marker, query.page_reverse = base.limit, base.marker, base.page_reverse
        for key, attr in (
            ("network_id", "id"),
            ("network_name", "name"),
            ("project_id", "project_id"),
            ("tenant_id", "project_id"),
        ):
            if key in q:
                query.filters[attr] = q.getall(key)
        page = await alcor.bus.call(ListNetworks(ctx=ctx, query=query))
        items = [await availability(n, ip_version) for n in page.items]
        fields = base.fields
        if fields:
            items = [{k: v for k, v in i.items() if k in fields} for i in items]
        body = {"network_ip_availabilities": items}
        body.update(
            links(
                request,
                "network_ip_availabilities",
                query,
                [{"id": n["id"]} for n in page.items],
                alcor.config.api.public_base_url,
            )
        )
        return http.json_response(body)

    async def show_handler(request: web.Request, params: dict[str, str]) -> web.Response:
        ctx = _admin_ctx(request, params)
        network = await alcor.bus.call(GetNetwork(ctx=ctx, id=params["id"]))
        return http.json_response({"network_ip_availability": await availability(network, None)})

    for base in (
        "/v2.0/network-ip-availabilities",
        "/network-ip-availabilities",
        "/project/{project_id}/network-ip-availabilities",
    ):
        router.add(
            Route("GET", base, list_handler, resource="network_ip_availability", action="list")
        )
        router.add(
            Route(
                "GET",
                base + "/{id}",
                show_handler,
                resource="network_ip_availability",
                action="show",
            )
        )


def add_floatingip_pool_routes(router: Router, alcor: Any) -> None:
    """GET /v2.0/floatingip-pools (floatingip-pools): the IPv4 subnets of the external
    networks the caller can see, i.e. where its floating IPs can come from (read-only)."""
    default_project = alcor.config.auth.default_project

    async def list_handler(request: web.Request, params: dict[str, str]) -> web.Response:
        ctx = http.context(request, params, "get_floatingip_pool", default_project)
        for key in request.query:
            if key != "fields":
                raise bad(f"'{key}' is an invalid attribute for filtering")
        fields = set(request.query.getall("fields", [])) or None
        query = ListQuery(filters={"router:external": [True]})
        page = await alcor.bus.call(ListNetworks(ctx=ctx, query=query))
        project = ctx.caller.project_id
        items = []
        for network in page.items:
            for subnet in await alcor.bus.call(SubnetsOfNetwork(network_id=network["id"])):
                if subnet["ip_version"] != 4:
                    continue
                item = {
                    "subnet_id": subnet["id"],
                    "subnet_name": subnet["name"],
                    "network_id": network["id"],
                    "cidr": subnet["cidr"],
                    "project_id": project,
                    "tenant_id": project,
                }
                items.append({k: v for k, v in item.items() if k in fields} if fields else item)
        return http.json_response({"floatingip_pools": items})

    for base in ("/v2.0/floatingip-pools", "/project/{project_id}/floatingip-pools"):
        router.add(Route("GET", base, list_handler, resource="floatingip_pool", action="list"))


__all__ = [
    "add_floatingip_pool_routes",
    "add_ip_availability_routes",
    "add_router_action_routes",
    "errors",
    "renderer",
]
