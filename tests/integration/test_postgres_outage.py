"""The database goes away and comes back: 503 DatabaseUnavailable meanwhile, nothing half
applied, the hosts given up and taken back, requests served again once it returns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.api.web import make_web_app
from alcor.app import build
from alcor.bench.postgres import PostgresServer, make_template
from alcor.config import load_config

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]
NODE = {
    "node_id": "h1",
    "node_name": "h1",
    "local_ip": "127.44.0.1",
    "mac_address": "52:54:00:00:44:01",
    "server_port": 50001,
}


@pytest.fixture
async def private_server() -> AsyncIterator[PostgresServer]:
    """A PostgreSQL server of this test alone (it is stopped and started again)."""
    server = PostgresServer()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, server.start)
    await make_template(server)
    yield server
    await loop.run_in_executor(None, server.remove)


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll `check` until it holds (what it waits for names the failure)."""
    try:
        async with asyncio.timeout(30):
            while not await check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"timed out waiting for: {what}")


async def test_lost_database_is_503_and_everything_recovers(private_server, tmp_path):
    """While PostgreSQL is down every request is 503 DatabaseUnavailable and the process
    gives its hosts up; once it is back the same process serves and delivers again."""
    url = await private_server.create_database("outage")
    config = load_config(
        path=None,
        env={},
        overrides={
            "store.url": url,
            "store.connect_timeout_s": 1.0,
            "southbound.grpc_server.port": 0,
            "cluster.heartbeat_s": 0.2,
            "cluster.dead_after_s": 1.0,
        },
    )
    alcor = build(config)
    loop = asyncio.get_running_loop()
    async with TestClient(TestServer(make_web_app(alcor))) as client:
        reply = await client.post("/nodes", json={"host_info": NODE})
        assert reply.status == 201
        engine = alcor.southbound

        async def owns_h1() -> bool:
            return "h1" in engine.senders

        await _until(owns_h1, "h1 delivered to")

        await loop.run_in_executor(None, private_server.stop, "fast")
        reply = await client.post("/v2.0/networks", json={"network": {"name": "during"}})
        assert reply.status == 503
        error = (await reply.json())["NeutronError"]
        assert error["type"] == "DatabaseUnavailable" and "not applied" in error["message"]
        assert (await client.get("/v2.0/networks")).status == 503

        async def gave_up() -> bool:
            return not engine.senders

        await _until(gave_up, "hosts given up")

        await loop.run_in_executor(None, private_server.start)

        async def serves() -> bool:
            reply = await client.post("/v2.0/networks", json={"network": {"name": "after"}})
            return reply.status == 201

        await _until(serves, "requests served again")
        await _until(owns_h1, "h1 taken back")
        names = [n["name"] for n in (await (await client.get("/v2.0/networks")).json())["networks"]]
        assert "after" in names and "during" not in names
