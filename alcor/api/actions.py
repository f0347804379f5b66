"""Member actions of resources (PUT /v2.0/<collection>/{id}/<action>): trunk subports and
address group addresses. One generic handler: read `{key: [...]}`, validate it with the
attribute type, call the manager's command, render the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from alcor import errors
from alcor.api import http
from alcor.api.openapi import wrapped
from alcor.api.routing import Route, Router
from alcor.managers.address_group.messages import EditAddresses
from alcor.managers.common import RequestContext
from alcor.managers.flavor.messages import BindServiceProfile, GetFlavor
from alcor.managers.trunk.messages import EditSubports, GetTrunk
from alcor.resources.address_group import ACTION_ADDRESSES
from alcor.resources.trunk import SubPorts
from alcor.resources.types import Invalid, Type, Uuid

Call = Callable[[RequestContext, str, Any], Any]


def _read_list(body: Any, key: str, typ: Type) -> Any:
    """Return the validated `key` of an action body (400 when missing or malformed)."""
    if not isinstance(body, dict) or key not in body:
        raise errors.HTTPBadRequest(msg=f"Unable to find '{key}' in request body")
    unknown = [k for k in body if k != key]
    if unknown:
        raise errors.HTTPBadRequest(msg=f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    try:
        return typ.convert(body[key])
    except Invalid as exc:
        raise errors.HTTPBadRequest(msg=f"Invalid input for {key}. Reason: {exc}.") from None


def add_member_action(
    router: Router,
    alcor: Any,
    collection: str,
    resource: str,
    action: str,
    key: str,
    typ: Type,
    call: Call,
    wrap: str | None,
) -> None:
    """Register PUT /v2.0/<collection>/{id}/<action> {key: [...]}; answer the command's
    result, wrapped in `wrap` when given."""

    async def handler(request: web.Request, params: dict[str, str]) -> web.Response:
        value = _read_list(await http.read_json(request), key, typ)
        ctx = http.context(request, params, action, alcor.config.auth.default_project)
        result = await alcor.bus.call(call(ctx, params["id"], value))
        return http.json_response({wrap: result} if wrap else result)

    router.add(
        Route(
            "PUT",
            f"/v2.0/{collection}/{{id}}/{action}",
            handler,
            resource=resource,
            action=action,
            body=wrapped(key, typ.schema()),
        )
    )


def _subports_call(add: bool) -> Call:
    def call(ctx: RequestContext, obj_id: str, value: Any) -> EditSubports:
        return EditSubports(ctx=ctx, id=obj_id, sub_ports=value, add=add)

    return call


def _addresses_call(add: bool) -> Call:
    def call(ctx: RequestContext, obj_id: str, value: Any) -> EditAddresses:
        return EditAddresses(ctx=ctx, id=obj_id, addresses=value, add=add)

    return call


def add_action_routes(router: Router, alcor: Any) -> None:
    """Register the member actions of trunks and address groups."""
    for add in (True, False):
        verb = "add" if add else "remove"
        add_member_action(
            router,
            alcor,
            "trunks",
            "trunk",
            f"{verb}_subports",
            "sub_ports",
            SubPorts(),
            _subports_call(add),
            None,
        )
        add_member_action(
            router,
            alcor,
            "address-groups",
            "address_group",
            f"{verb}_addresses",
            "addresses",
            ACTION_ADDRESSES,
            _addresses_call(add),
            "address_group",
        )

    async def get_subports(request: web.Request, params: dict[str, str]) -> web.Response:
        ctx = http.context(request, params, "get_subports", alcor.config.auth.default_project)
        trunk = await alcor.bus.call(GetTrunk(ctx=ctx, id=params["id"]))
        return http.json_response({"sub_ports": trunk["sub_ports"]})

    router.add(
        Route(
            "GET",
            "/v2.0/trunks/{id}/get_subports",
            get_subports,
            resource="trunk",
            action="get_subports",
        )
    )


def add_flavor_profile_routes(router: Router, alcor: Any) -> None:
    """POST|GET /v2.0/flavors/{id}/service_profiles, DELETE …/service_profiles/{profile_id}."""

    def ctx_of(request: web.Request, params: dict[str, str], action: str) -> RequestContext:
        return http.context(request, params, action, alcor.config.auth.default_project)

    async def bind(request: web.Request, params: dict[str, str]) -> web.Response:
        body = await http.read_json(request)
        profile = body.get("service_profile") if isinstance(body, dict) else None
        if not isinstance(profile, dict) or not isinstance(profile.get("id"), str):
            raise errors.HTTPBadRequest(msg="Unable to find 'service_profile' in request body")
        unknown = [k for k in body if k != "service_profile"] + [k for k in profile if k != "id"]
        if unknown:
            raise errors.HTTPBadRequest(msg=f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        ctx = ctx_of(request, params, "create_flavor_service_profile")
        result = await alcor.bus.call(
            BindServiceProfile(ctx=ctx, flavor_id=params["id"], profile_id=profile["id"], add=True)
        )
        return http.json_response({"service_profile": result}, 201)

    async def listing(request: web.Request, params: dict[str, str]) -> web.Response:
        flavor = await alcor.bus.call(
            GetFlavor(ctx=ctx_of(request, params, "get_flavor"), id=params["id"])
        )
        return http.json_response(
            {"service_profiles": [{"id": p} for p in flavor["service_profiles"]]}
        )

    async def unbind(request: web.Request, params: dict[str, str]) -> web.Response:
        ctx = ctx_of(request, params, "delete_flavor_service_profile")
        await alcor.bus.call(
            BindServiceProfile(
                ctx=ctx, flavor_id=params["id"], profile_id=params["profile_id"], add=False
            )
        )
        return http.empty()

    base = "/v2.0/flavors/{id}/service_profiles"
    body = wrapped("service_profile", wrapped("id", Uuid().schema()))
    router.add(Route("POST", base, bind, resource="flavor", action="service_profiles", body=body))
    router.add(Route("GET", base, listing, resource="flavor", action="service_profiles"))
    router.add(
        Route("DELETE", base + "/{profile_id}", unbind, resource="flavor", action="service_profile")
    )
