"""Quota endpoints (/v2.0/quotas…, native P/quotas…)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from alcor import errors
from alcor.api import http
from alcor.api.openapi import wrapped
from alcor.bus import Bus
from alcor.config import Config
from alcor.managers.common import RequestContext
from alcor.managers.quota.messages import (
    QUOTA_RESOURCES,
    DeleteQuota,
    GetQuota,
    ListQuotas,
    UpdateQuota,
)
from alcor.resources.types import Bool, Int, Invalid


class QuotaHandlers:
    """Handlers of the quota paths."""

    def __init__(self, bus: Bus, config: Config) -> None:
        self._bus = bus
        self._config = config

    def _ctx(self, request: web.Request, params: dict[str, str], action: str) -> RequestContext:
        return http.context(request, params, action, self._config.auth.default_project)

    async def list_collection(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """GET quotas: projects with overrides (admin; native: that project only)."""
        ctx = self._ctx(request, params, "get_quota")
        quotas = await self._bus.call(ListQuotas(ctx=ctx, project_id=params.get("project_id")))
        return http.json_response({"quotas": quotas})

    async def show(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """GET quotas/{p}."""
        return await self._get(request, params, "limits")

    async def default(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """GET quotas/{p}/default."""
        return await self._get(request, params, "default")

    async def details(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """GET quotas/{p}/details."""
        return await self._get(request, params, "details")

    async def _get(self, request: web.Request, params: dict[str, str], kind: str) -> web.Response:
        ctx = self._ctx(request, params, "get_quota")
        quota = await self._bus.call(GetQuota(ctx=ctx, project_id=params["target"], kind=kind))
        return http.json_response({"quota": quota})

    async def update(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """PUT quotas/{p} (admin): partial limits."""
        body = await http.read_json(request)
        items, _ = http.unwrap(body, "quota", None, allow_bulk=False)
        limits, flags = _limits(items[0])
        ctx = self._ctx(request, params, "update_quota")
        quota = await self._bus.call(
            UpdateQuota(
                ctx=ctx,
                project_id=params["target"],
                limits=limits,
                check_limit=flags.get("check_limit", False) and not flags.get("force", False),
            )
        )
        return http.json_response({"quota": quota})

    async def delete(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """DELETE quotas/{p} (admin): remove overrides."""
        ctx = self._ctx(request, params, "delete_quota")
        await self._bus.call(DeleteQuota(ctx=ctx, project_id=params["target"]))
        return http.empty()


# Neutron's quota-check-limit flags (neutron-tempest-plugin sends them). By default alcor does
# not check a new limit against usage (§9: lowering a limit below usage is allowed), which is
# what `force: true` asks for; `check_limit: true` (without force) asks for the check: a limit
# below the usage is then 400. Deviation from the spec, where any key but a resource is 400.
LIMIT_CHECK_FLAGS = ("force", "check_limit")
# Neutron stores limits as 32-bit integers: a larger value is 400.
MAX_LIMIT = 2**31 - 1


def _limits(body: Any) -> tuple[dict[str, int], dict[str, bool]]:
    if not isinstance(body, dict):
        raise errors.HTTPBadRequest(msg="Malformed request body")
    body = dict(body)
    flags = {}
    for flag in LIMIT_CHECK_FLAGS:
        if flag in body:
            try:
                flags[flag] = Bool().convert(body.pop(flag))
            except Invalid as exc:
                raise errors.HTTPBadRequest(
                    msg=f"Invalid input for {flag}. Reason: {exc}."
                ) from None
    unknown = [k for k in body if k not in QUOTA_RESOURCES]
    if unknown:
        raise errors.HTTPBadRequest(msg=f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    out = {}
    for key, value in body.items():
        try:
            out[key] = Int(minimum=-1, maximum=MAX_LIMIT).convert(value)
        except Invalid as exc:
            raise errors.HTTPBadRequest(msg=f"Invalid input for {key}. Reason: {exc}.") from None
    return out, flags


# The body of PUT quotas/{p}, as _limits reads it (for /openapi.json).
QUOTA_BODY = wrapped(
    "quota",
    {
        "type": "object",
        "properties": {
            **{
                r: {"type": "integer", "minimum": -1, "maximum": MAX_LIMIT} for r in QUOTA_RESOURCES
            },
            **{flag: Bool().schema() for flag in LIMIT_CHECK_FLAGS},
        },
        "additionalProperties": False,
    },
)
