"""JSON over HTTP to Zeta's management API (a ZetaApi for the gateway manager)."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from alcor.managers.gateway.zeta import Reply, ZetaUnreachable


class ZetaHttpClient:
    """One connection pool to Zeta, a deadline per call; no answer is ZetaUnreachable."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self._url = url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the connection pool."""
        self._session = aiohttp.ClientSession(
            timeout=self._timeout, connector=aiohttp.TCPConnector(limit=64)
        )

    async def stop(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, path: str, body: Any = None) -> Reply:
        """Send one request; return Zeta's answer or raise ZetaUnreachable."""
        assert self._session is not None, "client not started"
        data = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else None
        try:
            async with self._session.request(
                method, self._url + path, data=data, headers=headers
            ) as resp:
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ZetaUnreachable(f"{method} {path}: {type(exc).__name__} {exc}") from exc
        return Reply(resp.status, _decode(raw))


def _decode(raw: bytes) -> Any:
    """Return the JSON body, or the text of a body that is not JSON (kept for last_error)."""
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return raw.decode(errors="replace")
