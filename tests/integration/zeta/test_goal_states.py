"""GatewayStates reach the hosts (southbound spec §8.3): real agents over real gRPC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.test_southbound_e2e import Cloud, _start_cloud
from tests.integration.zeta.conftest import FAST
from tests.zeta_double import ZetaDouble, served


@pytest.fixture
async def zeta() -> AsyncIterator[ZetaDouble]:
    """A Zeta double with a ZGC."""
    async with served() as double:
        yield double


@pytest.fixture
async def cloud(make_config: Any, zeta: ZetaDouble) -> AsyncIterator[Cloud]:
    """Two hosts, gateways on."""
    async for item in _start_cloud(
        make_config,
        2,
        "127.2.6.1",
        **{"southbound.retry.base_s": 0.02, "southbound.retry.cap_s": 0.2},
        **FAST,
        **{"zeta.url": zeta.url},
    ):
        yield item


async def _holding(cloud: Cloud, host: int, gateway_id: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while gateway_id not in cloud.state(host)["gateways"]:
            await asyncio.sleep(0.05)
    return cloud.state(host)


async def test_every_host_of_the_vpc_holds_its_ready_gateway(cloud):
    """Once READY: the VPC names the gateway, the GatewayState carries Zeta's answer, and
    the agent builds its select group; the audit is clean."""
    net_id, _ = await cloud.network(["10.80.0.0/24"])
    await cloud.port(net_id, 0)
    await cloud.port(net_id, 1)
    gateways = []
    async with asyncio.timeout(20):
        while not gateways or gateways[0]["status"] != "READY":
            gateways = (await cloud.call("GET", f"/v2.0/gateways?network_id={net_id}"))["gateways"]
            await asyncio.sleep(0.05)
    gateway = gateways[0]
    for host in (0, 1):
        state = await _holding(cloud, host, gateway["id"])
        held = state["gateways"][gateway["id"]]
        assert held["gateway_type"] == "ZETA"
        assert [d["ip_address"] for d in held["destinations"]] == [
            d["ip_address"] for d in gateway["destinations"]
        ]
        assert held["zeta_info"]["port_inband_operation"] == gateway["port_inband_operation"]
        assert state["vpcs"][net_id]["gateway_ids"] == [gateway["id"]]
        group = next(iter(state["gateway_groups"].values()))
        assert group["gateway_id"] == gateway["id"]
        await cloud.idle()
        audit = (await cloud.call("GET", f"/nodes/node-{host}/southbound/audit"))["audit"]
        assert audit["clean"], audit


async def test_a_host_that_leaves_the_vpc_drops_its_gateway(cloud):
    """The gateway is part of a host's view through the VPC: it leaves with it."""
    net_id, _ = await cloud.network(["10.81.0.0/24"])
    await cloud.port(net_id, 0)
    leaving = await cloud.port(net_id, 1)
    async with asyncio.timeout(20):
        while True:
            gateways = (await cloud.call("GET", f"/v2.0/gateways?network_id={net_id}"))["gateways"]
            if gateways and gateways[0]["status"] == "READY":
                break
            await asyncio.sleep(0.05)
    await _holding(cloud, 1, gateways[0]["id"])
    await cloud.call("DELETE", f"/v2.0/ports/{leaving['id']}", status=204)
    await cloud.idle()
    assert gateways[0]["id"] not in cloud.state(1)["gateways"]
    assert gateways[0]["id"] in cloud.state(0)["gateways"]
