"""The integration tests' HTTP caller: one identity, status checks, resource builders.

Every call goes through the real aiohttp app (aiohttp's TestClient) on a real SQLite file.
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
    """Calls alcor over HTTP as one caller (headers), checks statuses, builds resources."""

    def __init__(self, client: TestClient, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = dict(headers or {})

    def as_(self, project: str, roles: str = "member") -> Api:
        """Return an Api calling as `project` with `roles` (noauth headers)."""
        return Api(self.client, {"X-Project-Id": project, "X-Roles": roles})

    def with_headers(self, **headers: str) -> Api:
        """Return an Api sending exactly these headers."""
        return Api(self.client, {k.replace("_", "-"): v for k, v in headers.items()})

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> Reply:
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

    async def ok(
        self, method: str, path: str, body: Any = None, status: int = 200, **kwargs: Any
    ) -> Any:
        """Send a request that must answer `status`; return the body."""
        reply = await self.call(method, path, body, **kwargs)
        assert reply.status == status, (method, path, reply.status, reply.body)
        return reply.body

    async def fails(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        status: int,
        error: str,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send a request that must fail with `status` and NeutronError `error`."""
        reply = await self.call(method, path, body, headers=headers)
        assert (reply.status, reply.body and reply.body.get("NeutronError", {}).get("type")) == (
            status,
            error,
        ), (method, path, reply.status, reply.body)
        return reply

    async def get(self, path: str, **kwargs: Any) -> Any:
        """GET that must succeed."""
        return await self.ok("GET", path, **kwargs)

    # ---- resources ---------------------------------------------------------------------
    async def create(self, collection: str, key: str, **attrs: Any) -> dict[str, Any]:
        """POST /v2.0/<collection> {key: attrs}; return the created object."""
        return (await self.ok("POST", f"/v2.0/{collection}", {key: attrs}, 201))[key]

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
        body = {
            "host_info": {
                "node_name": name,
                "local_ip": local_ip,
                "mac_address": "52:54:00:12:34:56",
                **attrs,
            }
        }
        return (await self.ok("POST", "/nodes", body, 201))["host_info"]

    async def router(self, **attrs: Any) -> dict[str, Any]:
        """Create a router."""
        return await self.create("routers", "router", **attrs)

    async def sg(self, **attrs: Any) -> dict[str, Any]:
        """Create a security group."""
        return await self.create("security-groups", "security_group", **attrs)

    async def rule(self, security_group_id: str, **attrs: Any) -> dict[str, Any]:
        """Create a security group rule (ingress unless told)."""
        attrs.setdefault("direction", "ingress")
        return await self.create(
            "security-group-rules",
            "security_group_rule",
            security_group_id=security_group_id,
            **attrs,
        )

    async def fip(self, floating_network_id: str, **attrs: Any) -> dict[str, Any]:
        """Allocate a floating IP."""
        return await self.create(
            "floatingips", "floatingip", floating_network_id=floating_network_id, **attrs
        )

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
