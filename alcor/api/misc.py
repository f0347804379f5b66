"""Small read-only endpoints: availability zones."""

from __future__ import annotations

from aiohttp import web

from alcor.api import http
from alcor.api.listing import bad
from alcor.api.routing import Handler

AZ_FILTERS = ("name", "resource", "state")


def availability_zones(zones: tuple[str, ...]) -> Handler:
    """Return the GET /v2.0/availability_zones handler for the configured zones."""

    async def handler(request: web.Request, params: dict[str, str]) -> web.Response:
        items = [{"name": z, "resource": "network", "state": "available"} for z in zones]
        for key in request.query:
            if key == "fields":
                continue
            if key not in AZ_FILTERS:
                raise bad(f"'{key}' is an invalid attribute for filtering")
            wanted = request.query.getall(key)
            items = [i for i in items if i[key] in wanted]
        return http.json_response({"availability_zones": items})

    return handler
