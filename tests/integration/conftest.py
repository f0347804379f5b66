"""HTTP helpers for integration tests: a thin client wrapper and resource factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.api.web import make_web_app
from alcor.app import build


@dataclass
class Reply:
    """One HTTP answer: status, decoded JSON body (or None) and headers."""

    status: int
    body: Any
    headers: Any

    @property
    def error(self) -> str:
        """Return the NeutronError type of an error answer."""
        return self.body["NeutronError"]["type"]

    @property
    def message(self) -> str:
        """Return the NeutronError message of an error answer."""
        return self.body["NeutronError"]["message"]


class Api:
    """Calls alcor over HTTP as one caller (headers) and checks statuses."""

    def __init__(self, client: TestClient, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}

    def as_(self, project: str, roles: str = "member") -> Api:
        """Return an Api calling as `project` with `roles` (noauth headers)."""
        return Api(self.client, {"X-Project-Id": project, "X-Roles": roles})

    async def call(self, method: str, path: str, body: Any = None, *,
                   headers: dict[str, str] | None = None, data: bytes | None = None) -> Reply:
        """Send a request; return its Reply."""
        kwargs: dict[str, Any] = {"headers": {**self.headers, **(headers or {})}}
        if data is not None:
            kwargs["data"] = data
        elif body is not None:
            kwargs["json"] = body
        async with self.client.request(method, path, **kwargs) as resp:
            raw = await resp.read()
            if raw:
                assert resp.headers["Content-Type"].startswith("application/json"), raw
            return Reply(resp.status, await resp.json() if raw else None, resp.headers)

    async def ok(self, method: str, path: str, body: Any = None, status: int = 200,
                 **kwargs: Any) -> Any:
        """Send a request that must answer `status`; return the body."""
        reply = await self.call(method, path, body, **kwargs)
        assert reply.status == status, (method, path, reply.status, reply.body)
        return reply.body

    async def get(self, path: str, **kwargs: Any) -> Any:
        """GET that must succeed."""
        return await self.ok("GET", path, **kwargs)

    async def network(self, **attrs: Any) -> dict[str, Any]:
        """Create a network; return it."""
        return (await self.ok("POST", "/v2.0/networks", {"network": attrs}, 201))["network"]

    async def subnet(self, network_id: str, cidr: str, **attrs: Any) -> dict[str, Any]:
        """Create a subnet; return it."""
        body = {"subnet": {"network_id": network_id, "cidr": cidr, **attrs}}
        return (await self.ok("POST", "/v2.0/subnets", body, 201))["subnet"]

    async def port(self, network_id: str, **attrs: Any) -> dict[str, Any]:
        """Create a port; return it."""
        body = {"port": {"network_id": network_id, **attrs}}
        return (await self.ok("POST", "/v2.0/ports", body, 201))["port"]

    async def node(self, name: str, local_ip: str, **attrs: Any) -> dict[str, Any]:
        """Register a node; return it."""
        body = {"host_info": {"node_name": name, "local_ip": local_ip,
                              "mac_address": "52:54:00:12:34:56", **attrs}}
        return (await self.ok("POST", "/nodes", body, 201))["host_info"]


@pytest.fixture
def api(client) -> Api:
    """An Api on the default client (noauth, admin)."""
    return Api(client)


@pytest.fixture
async def make_api(make_config) -> AsyncIterator[Callable[..., Awaitable[Api]]]:
    """Return a factory of Apis on apps built with config overrides (own SQLite file each)."""
    clients: list[TestClient] = []

    async def factory(**overrides: Any) -> Api:
        client = TestClient(TestServer(make_web_app(build(make_config(**overrides)))))
        await client.start_server()
        clients.append(client)
        return Api(client)

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
async def net(api) -> dict[str, Any]:
    """A network with one IPv4 subnet 10.0.0.0/24 (the subnet is under `subnet`)."""
    network = await api.network(name="net1")
    network["subnet"] = await api.subnet(network["id"], "10.0.0.0/24", name="sub1")
    return network
