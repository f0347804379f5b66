"""HTTP edge helpers: JSON bodies and responses, errors as NeutronError, request context."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
from contextvars import ContextVar
from typing import Any

import orjson
from aiohttp import web

from alcor import errors
from alcor.identity import Caller
from alcor.managers.common import RequestContext, deny
from alcor.resources.types import Invalid, String

_LOGGER = logging.getLogger(__name__)
REQUEST_ID: ContextVar[str] = ContextVar("alcor_request_id", default="-")
# aiohttp >= 3.13 warns on plain string request keys; older versions have no RequestKey.
CALLER: Any = (
    web.RequestKey("alcor_caller", Caller) if hasattr(web, "RequestKey") else "alcor.caller"
)
JSON_TYPE = "application/json; charset=UTF-8"
BODY_TIMEOUT = web.AppKey("body_timeout_s", float)

# One table: error base class -> HTTP status (Neutron's FAULT_MAP). Most specific first.
FAULTS: tuple[tuple[type[errors.AlcorError], int], ...] = (
    (errors.NotAuthenticated, 401),
    (errors.NotAuthorized, 403),
    (errors.NotFound, 404),
    (errors.HTTPMethodNotAllowed, 405),
    (errors.Conflict, 409),
    (errors.RequestTimeout, 408),
    (errors.Gone, 410),
    (errors.PreconditionFailed, 412),
    (errors.HTTPRequestEntityTooLarge, 413),
    (errors.BadRequest, 400),
    (errors.ServiceUnavailable, 503),
)


def status_of(exc: errors.AlcorError) -> int:
    """Return the HTTP status of a domain error."""
    for cls, status in FAULTS:
        if isinstance(exc, cls):
            return status
    return 500


def dumps(data: Any) -> bytes:
    """Encode JSON fast; fall back to the stdlib for integers beyond 64 bits (IPv6 sizes)."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data).encode()


def json_response(data: Any, status: int = 200) -> web.Response:
    """Return a JSON response."""
    return web.Response(body=dumps(data), status=status, headers={"Content-Type": JSON_TYPE})


def empty(status: int = 204) -> web.Response:
    """Return a response without a body."""
    return web.Response(status=status)


def error_response(exc: errors.AlcorError) -> web.Response:
    """Render a domain error as the NeutronError envelope with its status."""
    status = status_of(exc)
    response = json_response(
        {"NeutronError": {"type": exc.type, "message": exc.text, "detail": ""}}, status
    )
    if isinstance(exc, errors.NotAuthenticated):
        response.headers.update(exc.headers)
    if isinstance(exc, errors.HTTPMethodNotAllowed):
        response.headers["Allow"] = ", ".join(exc.allowed)
    if isinstance(exc, errors.RequestTimeout):
        response.force_close()  # the rest of the body may still come: never read it
    return response


def internal_error(request_id: str) -> web.Response:
    """Return the generic 500 that quotes the request id and nothing internal."""
    return json_response(
        {
            "NeutronError": {
                "type": "HTTPInternalServerError",
                "message": "Request Failed: internal server error while processing your request. "
                f"Request id: {request_id}",
                "detail": "",
            }
        },
        500,
    )


async def read_json(request: web.Request) -> Any:
    """Read the body as UTF-8 JSON whatever the Content-Type; 400 when malformed."""
    # A body already received whole (the usual case) needs no timer: one per request showed
    # in the port create profile.
    limit = None if request.content.is_eof() else request.app.get(BODY_TIMEOUT)
    try:
        async with asyncio.timeout(limit):
            raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise errors.HTTPRequestEntityTooLarge() from None
    except TimeoutError:
        raise errors.RequestTimeout() from None
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        raise errors.HTTPBadRequest(msg="Malformed request body") from None


def unwrap(
    body: Any,
    singular: str,
    plural: str | None,
    *,
    allow_bulk: bool,
    extra_plural: tuple[str, ...] = (),
) -> tuple[list[Any], bool]:
    """Return (items, is_bulk) from `{singular: {...}}` or `{plural: [...]}`."""
    if not isinstance(body, dict):
        raise errors.HTTPBadRequest(msg="Malformed request body")
    plurals = tuple(p for p in (plural, *extra_plural) if p)
    if allow_bulk and len(body) == 1 and next(iter(body)) in plurals:
        items = next(iter(body.values()))
        if not isinstance(items, list):
            raise errors.HTTPBadRequest(msg=f"Invalid input for {plural}. Reason: not a list.")
        # As Neutron, an item may also come wrapped in the singular key:
        # {"security_groups": [{"security_group": {...}}]} (neutron-tempest-plugin's bulk).
        return [
            i[singular] if isinstance(i, dict) and len(i) == 1 and singular in i else i
            for i in items
        ], True
    if singular not in body:
        raise errors.HTTPBadRequest(msg=f"Unable to find '{singular}' in request body")
    if len(body) != 1:
        others = ", ".join(k for k in body if k != singular)
        raise errors.HTTPBadRequest(msg=f"Unrecognized attribute(s) '{others}'")
    return [body[singular]], False


_IF_MATCH = re.compile(r"^\s*revision_number=(\d+)\s*$")


def if_match(request: web.Request) -> int | None:
    """Parse `If-Match: revision_number=N`; any other form is 400."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    found = _IF_MATCH.match(raw)
    if found is None:
        raise errors.HTTPBadRequest(
            msg=f"Invalid If-Match header: {raw!r}; only 'revision_number=N' is supported"
        )
    return int(found.group(1))


def check_native_scope(caller: Caller, path_project: str, action: str) -> None:
    """Refuse a non-admin caller of another project on /project/{p}/… (403, §1.4.2)."""
    if caller.project_id and caller.project_id != path_project and not caller.is_admin:
        raise deny(action)


_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "DELETE": "delete"}


def route_action(method: str, resource: str | None, action: str | None) -> str:
    """Return the policy action of a route (`get_network`, `update_port`, ...)."""
    if action in ("add_router_interface", "remove_router_interface"):
        return action
    verb = _VERBS.get(method, method.lower())
    if action in ("tags", "tag") and verb != "get":
        verb = "update"  # tag writes are updates of the tagged resource (§1.10)
    return f"{verb}_{resource or 'resource'}"


_PROJECT_ID = String(255)


def _check_project_id(project: str | None) -> None:
    """A project id from the path or a header obeys the project_id attribute's rules (400)."""
    if project is None:
        return
    try:
        _PROJECT_ID.convert(project)
    except Invalid as exc:
        raise errors.HTTPBadRequest(msg=f"Invalid input for project_id. Reason: {exc}.") from None


def context(
    request: web.Request,
    params: dict[str, str],
    action: str,
    default_project: str,
    body_project: str | None = None,
) -> RequestContext:
    """Build the request context: caller + visibility by path family (northbound §1.4.2)."""
    caller: Caller = request[CALLER]
    path_project = params.get("project_id")
    for project in (path_project, caller.project_id):
        _check_project_id(project)
    if path_project is not None:
        check_native_scope(caller, path_project, action)
        if not caller.project_id:
            caller = dataclasses.replace(caller, project_id=path_project)
        return RequestContext(caller, path_project, native=True, request_id=REQUEST_ID.get())
    if not caller.project_id:
        caller = dataclasses.replace(caller, project_id=body_project or default_project)
    return RequestContext(
        caller, None if caller.is_admin else caller.project_id, request_id=REQUEST_ID.get()
    )
