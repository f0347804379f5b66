"""POST /trace: can this port (or this outside address) reach that address, and why not?"""

from __future__ import annotations

import ipaddress
from typing import Any

from aiohttp import web

from alcor import errors
from alcor.api import http
from alcor.api.routing import Route, Router
from alcor.managers.port.messages import GetPort, ListPorts
from alcor.resources.repo import ListQuery
from alcor.resources.types import IPV4, IPV6, pattern_schema
from alcor.southbound.commands import TracePacket

PROTOCOLS = ("tcp", "udp", "icmp")
SOURCES = ("acked", "intent")
_FIELDS = {"from_port", "from_ip", "to", "protocol", "port"}


def _bad(msg: str) -> errors.HTTPBadRequest:
    return errors.HTTPBadRequest(msg=msg)


def _address(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"'{name}' must be an IP address")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise _bad(f"'{value}' is not a valid IP address for '{name}'") from None


def parse(body: Any) -> dict[str, Any]:
    """Validate a trace request (bare, or wrapped in "trace"); 400 names what is wrong."""
    if isinstance(body, dict) and set(body) == {"trace"}:
        body = body["trace"]
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    unknown = set(body) - _FIELDS
    if unknown:
        raise _bad(f"Unrecognized attribute(s) '{', '.join(sorted(unknown))}'")
    if ("from_port" in body) == ("from_ip" in body):
        raise _bad("give exactly one of 'from_port' and 'from_ip'")
    if "to" not in body:
        raise _bad("'to' is required")
    protocol = body.get("protocol", "tcp")
    if protocol not in PROTOCOLS:
        raise _bad(f"'protocol' must be one of {', '.join(PROTOCOLS)}")
    port = body.get("port", 0)
    if isinstance(port, float) and port.is_integer():
        port = int(port)  # JSON does not tell 80.0 from 80
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise _bad("'port' must be an integer 0-65535")
    if protocol == "icmp" and port:
        raise _bad("'port' applies to tcp and udp only")
    request = {"to": _address(body["to"], "to"), "protocol": protocol, "port": port}
    if "from_ip" in body:
        request["from_ip"] = _address(body["from_ip"], "from_ip")
    elif not isinstance(body["from_port"], str):
        raise _bad("'from_port' must be a port id")
    else:
        request["from_port"] = body["from_port"]
    return request


def _source_ip(port: dict[str, Any], to: str) -> str:
    family = ipaddress.ip_address(to).version
    for fixed in port.get("fixed_ips") or ():
        if ipaddress.ip_address(fixed["ip_address"]).version == family:
            return str(fixed["ip_address"])
    raise _bad(f"port {port['id']} has no IPv{family} address to reach {to}")


def add_trace_routes(router: Router, alcor: Any) -> None:
    """Register POST /trace (and /v2.0/trace)."""

    async def trace(request: web.Request, params: dict[str, str]) -> web.Response:
        ctx = http.context(request, params, "trace", alcor.config.auth.default_project)
        source = request.query.get("source", "acked")
        if source not in SOURCES:
            raise _bad(f"'source' must be one of {', '.join(SOURCES)}")
        body = parse(await http.read_json(request))
        port = None
        if "from_port" in body:
            port = await alcor.bus.call(GetPort(ctx=ctx, id=body["from_port"]))  # 404 if unseen
        else:
            query = ListQuery(extra={"ip_address": [body["from_ip"]]})
            owners = (await alcor.bus.call(ListPorts(ctx=ctx, query=query))).items
            if len(owners) > 1:
                raise _bad(f"{body['from_ip']} is an address of several ports: use 'from_port'")
            port = owners[0] if owners else None
        result = await alcor.bus.call(
            TracePacket(
                from_port=port["id"] if port else None,
                src_ip=_source_ip(port, body["to"])
                if port and "from_port" in body
                else (body.get("from_ip") or ""),
                to=body["to"],
                protocol=body["protocol"],
                port=body["port"],
                source=source,
            )
        )
        return http.json_response({"trace": result})

    for path in ("/trace", "/v2.0/trace"):
        router.add(Route("POST", path, trace, resource="trace", action="trace", body=TRACE_BODY))


def _trace_body() -> dict[str, Any]:
    """The JSON Schema of what `parse` accepts (bare form): one of from_port and from_ip."""
    address = pattern_schema(IPV4, IPV6)
    ports = (
        ({"enum": ["tcp", "udp"]}, {"type": "integer", "minimum": 0, "maximum": 65535}),
        ({"const": "icmp"}, {"const": 0}),
    )
    variants = []
    for source, source_schema in (("from_port", {"type": "string"}), ("from_ip", address)):
        for protocol, port in ports:
            variants.append(
                {
                    "type": "object",
                    "properties": {
                        source: source_schema,
                        "to": address,
                        "protocol": protocol,
                        "port": port,
                    },
                    "required": [source, "to"],
                    "additionalProperties": False,
                }
            )
    return {"anyOf": variants}


TRACE_BODY = _trace_body()
