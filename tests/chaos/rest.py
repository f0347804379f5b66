"""The REST side of a chaos run: calls an operator would make, and what they answered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

# Errors that mean "the server went away mid-call": the outcome of that call is unknown.
GONE = (aiohttp.ClientConnectionError, aiohttp.ServerDisconnectedError, TimeoutError)


class ServerGone(Exception):
    """The server died (or was killed) before it answered."""


@dataclass
class Answer:
    """One HTTP answer."""

    status: int
    body: Any


class Rest:
    """An admin caller of the alcor API at `url()` (re-read on every call: restarts)."""

    def __init__(self, session: aiohttp.ClientSession, url: Callable[[], str]) -> None:
        self.session = session
        self.url = url

    async def call(self, method: str, path: str, body: Any = None) -> Answer:
        """Send one request; raise ServerGone if no answer came; never accept a 5xx."""
        try:
            async with self.session.request(method, self.url() + path, json=body) as resp:
                raw = await resp.read()
                data = await resp.json() if raw else None
        except GONE as exc:
            raise ServerGone(f"{method} {path}: {exc!r}") from exc
        assert resp.status < 500, (method, path, resp.status, data)
        return Answer(resp.status, data)

    async def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        """Send a request that must answer `status`; return its body."""
        answer = await self.call(method, path, body)
        assert answer.status == status, (method, path, body, answer.status, answer.body)
        return answer.body

    async def get(self, path: str) -> Any:
        """GET `path` (must answer 200)."""
        return await self.ok("GET", path)

    # ---- builders (each returns the created resource) ------------------------------------

    async def network(self, name: str) -> dict[str, Any]:
        """Create a network."""
        body = await self.ok("POST", "/v2.0/networks", {"network": {"name": name}}, 201)
        return dict(body["network"])

    async def subnet(self, network_id: str, cidr: str, **extra: Any) -> dict[str, Any]:
        """Create a subnet (IPv6 when the CIDR says so)."""
        attrs = {"network_id": network_id, "cidr": cidr, **extra}
        if ":" in cidr:
            attrs.setdefault("ip_version", 6)
        body = await self.ok("POST", "/v2.0/subnets", {"subnet": attrs}, 201)
        return dict(body["subnet"])

    async def port(self, network_id: str, host: str | None, **extra: Any) -> dict[str, Any]:
        """Create a port, bound to `host` (a node_name) unless None."""
        attrs = {"network_id": network_id, **extra}
        if host is not None:
            attrs["binding:host_id"] = host
        body = await self.ok("POST", "/v2.0/ports", {"port": attrs}, 201)
        return dict(body["port"])

    async def router(self, name: str) -> dict[str, Any]:
        """Create a router."""
        body = await self.ok("POST", "/v2.0/routers", {"router": {"name": name}}, 201)
        return dict(body["router"])

    async def security_group(self, name: str) -> dict[str, Any]:
        """Create a security group."""
        body = await self.ok(
            "POST", "/v2.0/security-groups", {"security_group": {"name": name}}, 201
        )
        return dict(body["security_group"])

    async def node(
        self, node_id: str, name: str, ip: str, ports: tuple[int, int], mac: str, transport: str
    ) -> None:
        """Register a host exactly as an operator does (POST /nodes).

        `ports` are the agent's GoalStateProvisioner and SubscribeInfoProvisioner ports.
        """
        host_info = {
            "node_id": node_id,
            "node_name": name,
            "local_ip": ip,
            "server_port": ports[0],
            "subscribe_port": ports[1],
            "mac_address": mac,
            "agent_type": "alcor",
            "transport": transport,
        }
        answer = await self.call("POST", "/nodes", {"host_info": host_info})
        assert answer.status in (200, 201), answer
