"""Fixtures of the integration tests: an admin Api, Apis on configured apps, a network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.api.web import make_web_app
from alcor.app import build
from tests.integration.api import Api


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
