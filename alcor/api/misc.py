"""Small read-only endpoints: availability zones, QoS rule types."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from alcor.api import http
from alcor.api.listing import bad
from alcor.api.routing import Handler, Route, Router
from alcor.managers.common import deny
from alcor.resources.qos import DRIVER, RULE_PARAMETERS, QosRuleTypeNotFound

AZ_FILTERS = ("name", "resource", "state")


def availability_zones(zones: tuple[str, ...]) -> Handler:
    """Return the GET /v2.0/availability_zones handler: each configured zone serves networks
    and routers (network_availability_zone, router_availability_zone)."""

    async def handler(request: web.Request, params: dict[str, str]) -> web.Response:
        items = [
            {"name": z, "resource": resource, "state": "available"}
            for resource in ("network", "router")
            for z in zones
        ]
        for key in request.query:
            if key == "fields":
                continue
            if key not in AZ_FILTERS:
                raise bad(f"'{key}' is an invalid attribute for filtering")
            wanted = request.query.getall(key)
            items = [i for i in items if i[key] in wanted]
        return http.json_response({"availability_zones": items})

    return handler


def add_qos_rule_type_routes(router: Router, alcor: Any) -> None:
    """GET /v2.0/qos/rule-types (anyone) and /v2.0/qos/rule-types/{type} (admin: the
    parameters alcor's data plane accepts, as one driver)."""

    async def rule_types(request: web.Request, params: dict[str, str]) -> web.Response:
        http.context(request, params, "get_rule_type", alcor.config.auth.default_project)
        return http.json_response({"rule_types": [{"type": kind} for kind in RULE_PARAMETERS]})

    async def rule_type(request: web.Request, params: dict[str, str]) -> web.Response:
        ctx = http.context(request, params, "get_rule_type", alcor.config.auth.default_project)
        if not ctx.is_admin:
            raise deny("get_rule_type")
        kind = params["rule_type"]
        if kind not in RULE_PARAMETERS:
            raise QosRuleTypeNotFound(rule_type=kind)
        drivers = [{"name": DRIVER, "supported_parameters": RULE_PARAMETERS[kind]}]
        return http.json_response({"rule_type": {"type": kind, "drivers": drivers}})

    router.add(Route("GET", "/v2.0/qos/rule-types", rule_types, resource="rule_type"))
    router.add(Route("GET", "/v2.0/qos/rule-types/{rule_type}", rule_type, resource="rule_type"))
