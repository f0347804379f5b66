"""A small timed Neutron client for the load generator (aiohttp, keep-alive)."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import orjson


class ApiError(Exception):
    """A request that did not answer the expected status."""


class Client:
    """Timed JSON calls against a Neutron-compatible endpoint."""

    def __init__(self, url: str, token: str | None = None, connections: int = 64) -> None:
        self.url = url.rstrip("/")
        headers = {"Content-Type": "application/json"}
        if token:
            headers["X-Auth-Token"] = token
        self._session = aiohttp.ClientSession(
            headers=headers,
            connector=aiohttp.TCPConnector(limit=connections),
            json_serialize=lambda o: orjson.dumps(o).decode(),
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._session.close()

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        expect: int | tuple[int, ...] = (200, 201, 204),
    ) -> tuple[Any, float]:
        """Return (decoded body or None, seconds) of one call; raise ApiError on a bad status."""
        data = orjson.dumps(body) if body is not None else None
        started = time.perf_counter()
        async with self._session.request(method, self.url + path, data=data) as resp:
            raw = await resp.read()
        elapsed = time.perf_counter() - started
        expected = (expect,) if isinstance(expect, int) else expect
        if resp.status not in expected:
            raise ApiError(f"{method} {path} -> {resp.status}: {raw[:300]!r}")
        return (orjson.loads(raw) if raw else None), elapsed
