"""Fixtures of the Zeta gateway tests: the Zeta double on loopback, alcor pointed at it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from alcor.api.service import ALCOR
from tests.integration.api import Api
from tests.zeta_double import ZetaDouble, served

# Fast retries so that failure paths finish quickly; the backoff's shape is unit-tested.
FAST = {
    "zeta.enabled": True,
    "zeta.timeout_s": 1.0,
    "zeta.retry_base_s": 0.01,
    "zeta.retry_cap_s": 0.05,
    "zeta.alarm_after": 3,
    "zeta.linger_s": 0.02,
}


@pytest.fixture
async def zeta() -> AsyncIterator[ZetaDouble]:
    """A Zeta double with a ZGC provisioned, served on 127.0.0.1 (`zeta.url`)."""
    async with served() as double:
        yield double


@pytest.fixture
async def zapi(make_api, zeta) -> Api:
    """An admin Api on an alcor whose gateways register with the double."""
    return await make_api(**FAST, **{"zeta.url": zeta.url})


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """Return check()'s first truthy result, polling until `timeout` (then fail)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def caught_up(api: Api) -> None:
    """Wait until the gateway manager has read every committed change (rows are queued)."""

    async def check() -> bool:
        return api.client.server.app[ALCOR].gateways.caught_up  # type: ignore[no-any-return]

    await eventually(check)


async def gateway_of(api: Api, network_id: str) -> dict[str, Any] | None:
    """Return the network's gateway through the API (once every change was read), or None."""
    await caught_up(api)
    found = (await api.get(f"/v2.0/gateways?network_id={network_id}"))["gateways"]
    return found[0] if found else None


async def gateway_status(api: Api, network_id: str, status: str) -> dict[str, Any]:
    """Wait until the network's gateway has `status`; return it."""

    async def check() -> dict[str, Any] | None:
        gateway = await gateway_of(api, network_id)
        return gateway if gateway is not None and gateway["status"] == status else None

    return await eventually(check)


async def settled(api: Api, network_id: str) -> dict[str, Any]:
    """Wait until the network's gateway is READY with nothing pending; return it."""

    async def check() -> dict[str, Any] | None:
        gateway = await gateway_of(api, network_id)
        ready = gateway is not None and gateway["status"] == "READY"
        return gateway if ready and gateway["pending_operations"] == 0 else None

    return await eventually(check)


async def bound_port(api: Api, network_id: str, host: str, **attrs: Any) -> dict[str, Any]:
    """Create a port bound to `host`; return it."""
    return await api.port(network_id, **{"binding:host_id": host, **attrs})
