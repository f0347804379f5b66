"""kill -9 of a real `alcor serve` at any moment: nothing lost, nothing created twice.

The double runs in the test's event loop; alcor is a subprocess on the same SQLite file
across restarts. A held call is one Zeta receives, and performs after alcor has died:
the outcome alcor never learned, which it must find out before sending anything again.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from tests.integration.conftest import Server

pytestmark = pytest.mark.slow


class Alcor:
    """A started `alcor serve` (the integration `serve` fixture) and a JSON client for it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.session = aiohttp.ClientSession()

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        """Send a request that must answer `status`; return the body."""
        async with self.session.request(method, self.server.url + path, json=body) as resp:
            assert resp.status == status, (method, path, resp.status, await resp.text())
            return await resp.json() if resp.status != 204 else None

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no checkpoint, nothing flushed."""
        await self.session.close()
        self.server.proc.kill()
        await asyncio.get_running_loop().run_in_executor(None, self.server.proc.wait)


@pytest.fixture
async def alcor(serve, zeta) -> AsyncIterator[Callable[[], Alcor]]:
    """Return a starter of `alcor serve` on one store, registering with the double."""
    started: list[Alcor] = []
    settings = {
        "ALCOR__ZETA__ENABLED": "true",
        "ALCOR__ZETA__URL": f'"{zeta.url}"',
        "ALCOR__ZETA__TIMEOUT_S": "30",
        "ALCOR__ZETA__RETRY_BASE_S": "0.01",
        "ALCOR__ZETA__RETRY_CAP_S": "0.05",
        "ALCOR__ZETA__LINGER_S": "0.02",
    }

    def start() -> Alcor:
        # Blocks the loop (and the double) only until alcor listens: it never waits on Zeta.
        started.append(Alcor(serve(**settings)))
        return started[-1]

    yield start
    for client in started:
        await client.session.close()


async def _settled(server: Alcor, zeta, network_id: str, ports: list[dict[str, Any]]) -> None:
    """Wait until Zeta holds exactly `ports` and the gateway has nothing pending."""
    deadline = time.monotonic() + 60
    wanted = {p["id"] for p in ports}
    while set(zeta.ports) != wanted:
        assert time.monotonic() < deadline, (len(zeta.ports), len(wanted))
        await asyncio.sleep(0.02)
    while time.monotonic() < deadline:
        found = (await server.call("GET", f"/v2.0/gateways?network_id={network_id}"))["gateways"]
        if found and found[0]["status"] == "READY" and found[0]["pending_operations"] == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"gateway of {network_id} did not settle: {found}")


async def _ports(server: Alcor, network_id: str, count: int) -> list[dict[str, Any]]:
    items = [{"network_id": network_id, "binding:host_id": "host-1"} for _ in range(count)]
    return (await server.call("POST", "/v2.0/ports", {"ports": items}, 201))["ports"]


async def _setup(server: Alcor) -> str:
    node = {"node_name": "host-1", "local_ip": "192.0.2.11", "mac_address": "52:54:00:12:34:56"}
    await server.call("POST", "/nodes", {"host_info": node}, 201)
    network = (await server.call("POST", "/v2.0/networks", {"network": {}}, 201))["network"]
    subnet = {"network_id": network["id"], "cidr": "10.1.0.0/16", "ip_version": 4}
    await server.call("POST", "/v2.0/subnets", {"subnet": subnet}, 201)
    return network["id"]


def _sent_once(zeta) -> None:
    """No VPC and no port create was ever sent twice to Zeta (nor failed): what an
    unknown outcome left behind was read back, never sent again."""
    vpcs = Counter(c.body["vpc_id"] for c in zeta.calls if c.path == "/vpcs")
    ports = Counter(p["port_id"] for c in zeta.calls if c.path == "/ports" for p in c.body)
    assert set(vpcs.values()) <= {1} and set(ports.values()) <= {1}, (vpcs, ports)
    assert all(c.status == 201 for c in zeta.calls if c.path in ("/vpcs", "/ports"))


HELD = {
    "vpc create": lambda method, path, body: (method, path) == ("POST", "/vpcs"),
    "port create": lambda method, path, body: (method, path) == ("POST", "/ports"),
    "port delete": lambda method, path, body: method == "DELETE",
}


@pytest.mark.parametrize("held", list(HELD))
async def test_kill_9_during_a_zeta_call(alcor, zeta, held):
    """Zeta performs the call after alcor died; the restarted alcor finds it, sends it never
    again, and carries on: every bound port at Zeta exactly once."""
    server = alcor()
    if held == "vpc create":
        zeta.hang(HELD[held])
    network_id = await _setup(server)
    if held == "port create":
        await _settled(server, zeta, network_id, [])
        zeta.hang(HELD[held])
    ports = await _ports(server, network_id, 5)
    if held == "port delete":
        await _settled(server, zeta, network_id, ports)
        zeta.hang(HELD[held])
        await server.call("DELETE", f"/v2.0/ports/{ports[0]['id']}", status=204)
        ports = ports[1:]
    await zeta.wait(lambda z: z.held > 0)
    await server.kill()
    calls = len(zeta.calls)
    zeta.release()
    await zeta.wait(lambda z: len(z.calls) > calls)  # Zeta did it; nobody heard the answer
    server = alcor()
    ports += await _ports(server, network_id, 2)
    await _settled(server, zeta, network_id, ports)
    assert set(zeta.vpcs) == {network_id}
    _sent_once(zeta)


async def test_kill_9_right_after_api_writes(alcor, zeta):
    """Killed while the consumer may be mid-batch: the change record still has everything."""
    server = alcor()
    network_id = await _setup(server)
    ports = await _ports(server, network_id, 300)
    await server.kill()
    server = alcor()
    await _settled(server, zeta, network_id, ports)
    await server.call("DELETE", f"/v2.0/ports/{ports[0]['id']}", status=204)
    for port in ports[1:]:
        await server.call("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    await server.call("DELETE", f"/v2.0/networks/{network_id}", status=204)
    await server.kill()
    server = alcor()
    deadline = time.monotonic() + 60
    while zeta.vpcs and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert zeta.vpcs == {} and zeta.ports == {}
    assert (await server.call("GET", "/v2.0/gateways"))["gateways"] == []
    _sent_once(zeta)
