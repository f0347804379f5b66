"""Helpers of the issue 3 tests (routers, security groups, floating IPs, quotas, ACLs, auth).

An HTTP caller bound to one identity, and topology builders. Every call goes through the
real aiohttp app on a real SQLite file. The fixtures live in this package's conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient


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
    """Calls alcor over HTTP as one caller (fixed headers)."""

    def __init__(self, client: TestClient, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = dict(headers or {})

    def as_(self, project: str, roles: str = "member") -> Api:
        """Return an Api calling as `project` with `roles` (noauth headers)."""
        return Api(self.client, {"X-Project-Id": project, "X-Roles": roles})

    def with_headers(self, **headers: str) -> Api:
        """Return an Api sending exactly these headers."""
        return Api(self.client, {k.replace("_", "-"): v for k, v in headers.items()})

    async def call(self, method: str, path: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> Reply:
        """Send a request; return its Reply."""
        kwargs: dict[str, Any] = {"headers": {**self.headers, **(headers or {})}}
        if body is not None:
            kwargs["json"] = body
        async with self.client.request(method, path, **kwargs) as resp:
            raw = await resp.read()
            return Reply(resp.status, await resp.json() if raw else None, resp.headers)

    async def ok(self, method: str, path: str, body: Any = None, status: int = 200,
                 headers: dict[str, str] | None = None) -> Any:
        """Send a request that must answer `status`; return the body."""
        reply = await self.call(method, path, body, headers)
        assert reply.status == status, (method, path, reply.status, reply.body)
        return reply.body

    async def fails(self, method: str, path: str, body: Any = None, *, status: int,
                    error: str, headers: dict[str, str] | None = None) -> Reply:
        """Send a request that must fail with `status` and NeutronError `error`."""
        reply = await self.call(method, path, body, headers)
        assert (reply.status, reply.body and reply.body.get("NeutronError", {}).get("type")) \
            == (status, error), (method, path, reply.status, reply.body)
        return reply

    # ---- resources ---------------------------------------------------------------------
    async def create(self, collection: str, key: str, **attrs: Any) -> dict[str, Any]:
        """POST /v2.0/<collection> {key: attrs}; return the created object."""
        return (await self.ok("POST", f"/v2.0/{collection}", {key: attrs}, 201))[key]

    async def network(self, **attrs: Any) -> dict[str, Any]:
        """Create a network."""
        return await self.create("networks", "network", **attrs)

    async def subnet(self, network_id: str, cidr: str, **attrs: Any) -> dict[str, Any]:
        """Create a subnet."""
        return await self.create("subnets", "subnet", network_id=network_id, cidr=cidr, **attrs)

    async def port(self, network_id: str, **attrs: Any) -> dict[str, Any]:
        """Create a port."""
        return await self.create("ports", "port", network_id=network_id, **attrs)

    async def router(self, **attrs: Any) -> dict[str, Any]:
        """Create a router."""
        return await self.create("routers", "router", **attrs)

    async def sg(self, **attrs: Any) -> dict[str, Any]:
        """Create a security group."""
        return await self.create("security-groups", "security_group", **attrs)

    async def rule(self, security_group_id: str, **attrs: Any) -> dict[str, Any]:
        """Create a security group rule (ingress unless told)."""
        attrs.setdefault("direction", "ingress")
        return await self.create("security-group-rules", "security_group_rule",
                                 security_group_id=security_group_id, **attrs)

    async def fip(self, floating_network_id: str, **attrs: Any) -> dict[str, Any]:
        """Allocate a floating IP."""
        return await self.create("floatingips", "floatingip",
                                 floating_network_id=floating_network_id, **attrs)

    async def get(self, path: str) -> Any:
        """GET that must answer 200."""
        return await self.ok("GET", path)

    async def add_interface(self, router_id: str, **body: Any) -> dict[str, Any]:
        """PUT add_router_interface; return the interface info."""
        return await self.ok("PUT", f"/v2.0/routers/{router_id}/add_router_interface", body)

    async def remove_interface(self, router_id: str, **body: Any) -> dict[str, Any]:
        """PUT remove_router_interface; return the interface info."""
        return await self.ok("PUT", f"/v2.0/routers/{router_id}/remove_router_interface", body)

    async def lan(self, cidr: str, **attrs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Create a network with one subnet; return (network, subnet)."""
        network = await self.network(**attrs)
        return network, await self.subnet(network["id"], cidr)


async def external_network(admin: Api, cidr: str = "203.0.113.0/24"
                           ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create (as admin) a `router:external` network with one subnet."""
    network = await admin.network(name="public", **{"router:external": True})
    return network, await admin.subnet(network["id"], cidr)
