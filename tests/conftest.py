"""Shared fixtures: a real alcor app on a real SQLite file, driven over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.api.web import make_web_app
from alcor.app import build
from alcor.config import load_config


@pytest.fixture
def make_config(tmp_path) -> Callable[..., Any]:
    """Return a factory of test configs (a fresh SQLite file, no alcor.toml, no env)."""

    def factory(**overrides: Any) -> Any:
        values = {"store.path": str(tmp_path / "alcor.db"), "southbound.grpc_server.port": 0}
        values.update(overrides)
        return load_config(path=None, env={}, overrides=values)

    return factory


@pytest.fixture
async def client(make_config) -> AsyncIterator[TestClient]:
    """An HTTP client of a started alcor (noauth: admin by default)."""
    alcor = build(make_config())
    async with TestClient(TestServer(make_web_app(alcor))) as test_client:
        test_client.alcor = alcor  # type: ignore[attr-defined]
        yield test_client
