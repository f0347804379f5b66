"""Admin HTTP API of an AgentPool (tests, scale tests, people poking at agents)."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiohttp import web

from alcor.proto import schema
from alcor.trace.model import Packet
from alcor_grpc.wire import bind_socket

from .agent import Agent
from .pool import AgentPool

_LOGGER = logging.getLogger(__name__)
POOL = web.AppKey("pool", AgentPool)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _agent(request: web.Request) -> Agent:
    ip = request.match_info["ip"]
    try:
        return request.app[POOL].agent(ip)
    except KeyError:
        raise web.HTTPNotFound(text=f"no agent on {ip}") from None


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json(loads=orjson.loads)
    except (ValueError, orjson.JSONDecodeError):
        raise web.HTTPBadRequest(text="body must be a JSON object") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


async def list_agents(request: web.Request) -> web.Response:
    """Handle GET /agents."""
    return _json([a.describe() for a in request.app[POOL].agents.values()])


async def agent_state(request: web.Request) -> web.Response:
    """Handle GET /agents/{ip}/state."""
    return _json(_agent(request).state.to_json())


async def restart_agent(request: web.Request) -> web.Response:
    """Handle POST /agents/{ip}/restart: wipe state, re-run start-up."""
    await _agent(request).restart()
    return _json({"restarting": True}, status=202)


async def lose_tables(request: web.Request) -> web.Response:
    """Handle POST /agents/{ip}/lose-tables: wipe state silently (drift for the audit)."""
    _agent(request).lose_tables()
    return web.Response(status=204)


async def delete_agent(request: web.Request) -> web.Response:
    """Handle DELETE /agents/{ip}: stop that agent."""
    agent = _agent(request)
    await request.app[POOL].remove(agent.ip)
    return web.Response(status=204)


async def arp(request: web.Request) -> web.Response:
    """Handle POST /agents/{ip}/arp {tunnel_id, ip, src_ip}."""
    agent, body = _agent(request), await _body(request)
    try:
        result = await agent.arp(
            int(body["tunnel_id"]), str(body["ip"]), str(body.get("src_ip", ""))
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise web.HTTPBadRequest(text=f"need tunnel_id and ip: {exc}") from None
    return _json(result)


async def packet(request: web.Request) -> web.Response:
    """Handle POST /agents/{ip}/packet {tunnel_id, src_ip, dst_ip, protocol}."""
    agent, body = _agent(request), await _body(request)
    try:
        proto = body.get("protocol", "TCP")
        protocol = (
            schema.Protocol(int(proto))
            if isinstance(proto, int)
            else schema.Protocol.from_string(str(proto).upper())
        )
        result = await agent.packet(
            int(body["tunnel_id"]), str(body.get("src_ip", "")), str(body["dst_ip"]), protocol
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise web.HTTPBadRequest(text=f"need tunnel_id, dst_ip and a protocol: {exc}") from None
    return _json(result)


async def plug(request: web.Request) -> web.Response:
    """Handle POST /agents/{ip}/plug/{port_id}."""
    _agent(request).plug(request.match_info["port_id"])
    return _json({"plugged": request.match_info["port_id"]})


async def send(request: web.Request) -> web.Response:
    """Handle POST /send {src_ip, dst_ip, protocol, port, src_port_id}: the hosts' own
    verdict on a packet over the tables they hold (stateful: replies of sent flows pass)."""
    body = await _body(request)
    try:
        packet = Packet(
            str(body["src_ip"]),
            str(body["dst_ip"]),
            str(body.get("protocol", "tcp")),
            int(body.get("port", 0)),
            body.get("src_port_id"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise web.HTTPBadRequest(text=f"bad packet: {exc}") from None
    return _json(request.app[POOL].send(packet).to_api())


def make_admin_app(pool: AgentPool) -> web.Application:
    """Build the admin aiohttp application for `pool`."""
    app = web.Application()
    app[POOL] = pool
    app.router.add_get("/agents", list_agents)
    app.router.add_get("/agents/{ip}/state", agent_state)
    app.router.add_post("/agents/{ip}/restart", restart_agent)
    app.router.add_post("/agents/{ip}/lose-tables", lose_tables)
    app.router.add_delete("/agents/{ip}", delete_agent)
    app.router.add_post("/agents/{ip}/arp", arp)
    app.router.add_post("/agents/{ip}/packet", packet)
    app.router.add_post("/agents/{ip}/plug/{port_id}", plug)
    app.router.add_post("/send", send)
    return app


class AdminServer:
    """Serve the admin app on host:port (port 0 = any free; read `.port` after start)."""

    def __init__(self, pool: AgentPool, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._runner = web.AppRunner(make_admin_app(pool), access_log=None)

    async def start(self) -> None:
        """Bind and serve."""
        await self._runner.setup()
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        _LOGGER.info("agent admin API on http://%s:%s", self.host, self.port)

    async def stop(self) -> None:
        """Stop serving."""
        await self._runner.cleanup()
