"""Service documents and operational endpoints: versions, extensions, health, metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import exposition, generate_latest

from alcor import errors
from alcor.api import http
from alcor.api.extensions import EXTENSIONS, all_extensions, extension_doc
from alcor.api.metrics import collect
from alcor.app import Alcor

ALCOR = web.AppKey("alcor", Alcor)
# The spec's format (§1.1); newer prometheus_client defaults its "latest" type to 1.0.0.
METRICS_TYPE = getattr(exposition, "CONTENT_TYPE_PLAIN_0_0_4", exposition.CONTENT_TYPE_LATEST)


def base_url(request: web.Request) -> str:
    """Return the public base URL for links (config, else the request's scheme and host)."""
    configured = request.app[ALCOR].config.api.public_base_url
    return configured.rstrip("/") if configured else f"{request.scheme}://{request.host}"


async def versions(request: web.Request, params: dict[str, str]) -> web.Response:
    """GET /: the version document."""
    return http.json_response(
        {
            "versions": [
                {
                    "id": "v2.0",
                    "status": "CURRENT",
                    "links": [{"href": f"{base_url(request)}/v2.0/", "rel": "self"}],
                }
            ]
        }
    )


V2_RESOURCES = (
    ("network", "networks"),
    ("subnet", "subnets"),
    ("port", "ports"),
    ("router", "routers"),
    ("floatingip", "floatingips"),
    ("security_group", "security-groups"),
    ("security_group_rule", "security-group-rules"),
    ("quota", "quotas"),
    ("network_ip_availability", "network-ip-availabilities"),
)


async def resources_doc(request: web.Request, params: dict[str, str]) -> web.Response:
    """GET /v2.0/: the resource document."""
    root = base_url(request)
    return http.json_response(
        {
            "resources": [
                {
                    "name": name,
                    "collection": path.replace("-", "_"),
                    "links": [{"href": f"{root}/v2.0/{path}", "rel": "self"}],
                }
                for name, path in V2_RESOURCES
            ]
        }
    )


async def extensions(request: web.Request, params: dict[str, str]) -> web.Response:
    """GET /v2.0/extensions."""
    return http.json_response({"extensions": all_extensions()})


async def extension(request: web.Request, params: dict[str, str]) -> web.Response:
    """GET /v2.0/extensions/{alias}."""
    if params["alias"] not in EXTENSIONS:
        raise errors.ExtensionNotFound()
    return http.json_response({"extension": extension_doc(params["alias"])})


async def healthz(request: web.Request, params: dict[str, str]) -> web.Response:
    """GET /healthz: liveness (never touches the agents)."""
    state = request.app[ALCOR].state
    if state == "running":
        return http.json_response({"status": "ok"})
    return http.json_response({"status": "unavailable", "reason": state}, 503)


async def metrics(request: web.Request, params: dict[str, str]) -> web.Response:
    """GET /metrics: Prometheus text format."""
    await collect(request.app[ALCOR])
    return web.Response(body=generate_latest(), headers={"Content-Type": METRICS_TYPE})


async def segments_default_table(request: web.Request, params: dict[str, str]) -> web.Response:
    """POST /segments/createDefaultTable: kept as a no-op for the original's setup scripts."""
    return http.json_response({})


async def agents(request: web.Request, params: dict[str, str]) -> web.Response:
    """GET /v2.0/agents: alcor has no Neutron agents (hosts are nodes): an empty list."""
    return http.json_response({"agents": []})


async def service_providers(request: web.Request, params: dict[str, str]) -> web.Response:
    """GET /v2.0/service-providers: no pluggable service providers: an empty list."""
    return http.json_response({"service_providers": []})
