"""One contract, every transport: grpc, grpcio, kafka and auto end with exactly the same agent
states.

Real reference agents (their own Kafka consumers for kafka/auto), a real Kafka-protocol
broker, real gRPC on loopback. `auto` runs with thresholds low enough that the VPC crosses
to its topic and back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.agent.agent import AgentConfig
from alcor.agent.pool import AgentPool
from alcor.api.web import make_web_app
from alcor.app import build
from tests.integration.kafka_helpers import FETCH_WAIT_MS, kafka_section
from tests.integration.test_southbound_e2e import Cloud

HOSTS = 4
UPPER, LOWER = 8, 3
TRANSPORTS = ("grpc", "grpcio", "kafka", "auto")


async def _cloud(
    make_config: Any, bootstrap: str, transport: str, base_ip: str
) -> AsyncIterator[Cloud]:
    section = kafka_section(bootstrap, reply_timeout_s=5)
    config = make_config(
        **{
            "southbound.kafka": section,
            "southbound.retry.base_s": 0.02,
            "southbound.retry.cap_s": 0.2,
            "southbound.auto.upper_ports": UPPER,
            "southbound.auto.lower_ports": LOWER,
        }
    )
    alcor = build(config)
    async with TestClient(TestServer(make_web_app(alcor))) as client:
        dataplane = alcor.southbound
        kafka = transport in ("kafka", "auto")
        pool = AgentPool(
            AgentConfig(
                ip=base_ip,
                port=0,
                controller=("127.0.0.1", dataplane.server_port),
                node_id="node",
                kafka=bootstrap if kafka else None,
                kafka_host_topic_prefix=section["host_topic_prefix"],
                kafka_reply_topic=section["reply_topic"],
                kafka_fetch_max_wait_ms=FETCH_WAIT_MS,
                backoff_base_s=0.05,
                backoff_cap_s=0.5,
            ),
            count=HOSTS,
        )
        await pool.start()
        ips = list(pool.agents)
        cloud = Cloud(client, alcor, pool, ips)
        try:
            for i, ip in enumerate(ips):
                agent = pool.agent(ip)
                await cloud.call(
                    "POST",
                    "/nodes",
                    {
                        "host_info": {
                            "node_id": agent.node_id,
                            "node_name": f"host-{i}",
                            "local_ip": ip,
                            "server_port": agent.port,
                            "subscribe_port": agent.subscribe_port,
                            "transport": transport,
                            "agent_type": "alcor",
                            "mac_address": f"52:54:00:00:07:{i:02x}",
                        }
                    },
                )
            await asyncio.wait_for(pool.wait_restarted(), 30)
            yield cloud
        finally:
            await pool.stop()


@pytest.fixture(params=TRANSPORTS)
async def cloud(request: Any, make_config: Any, kafka_broker: Any) -> AsyncIterator[Cloud]:
    """Four hosts whose nodes use the transport under test."""
    base = {"grpc": "127.6.0.1", "kafka": "127.6.1.1", "auto": "127.6.2.1", "grpcio": "127.6.3.1"}[
        request.param
    ]
    async for item in _cloud(make_config, kafka_broker.bootstrap, request.param, base):
        item.transport = request.param  # type: ignore[attr-defined]
        yield item


def _expected(listed: list[dict[str, Any]], host: int, subnets: set[str]) -> tuple[set, set]:
    mine = {p["id"] for p in listed if p["binding:host_id"] == f"host-{host}"}
    neighbors = {
        p["id"]
        for p in listed
        if p["binding:host_id"] and any(f["subnet_id"] in subnets for f in p["fixed_ips"])
    }
    return mine, neighbors


async def _idle(cloud: Cloud) -> None:
    """Wait until the data plane is idle and every auto VPC transition has settled."""
    for _ in range(3):
        await cloud.idle()
        await asyncio.sleep(0)
        dataplane = cloud.alcor.southbound
        channels = dataplane.channels
        for _ in range(400):
            busy = (
                channels._dirty
                or channels._pending
                or any(s == "SUBSCRIBING" for s in channels.subs.values())
            )
            if not busy and not channels._wake.is_set():
                break
            await asyncio.sleep(0.025)
    await cloud.idle()


async def test_four_hosts_end_in_the_same_state_over_every_transport(cloud):
    """2 subnets joined by a router, 20 ports with a group: exact agent states, all ACTIVE."""
    net, (sub_a, sub_b) = await cloud.network(["10.40.0.0/24", "10.41.0.0/24"])
    router = (await cloud.call("POST", "/v2.0/routers", {"router": {"name": "r"}}))["router"]
    for subnet in (sub_a, sub_b):
        await cloud.call(
            "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet}
        )
    group = (
        await cloud.call("POST", "/v2.0/security-groups", {"security_group": {"name": "web"}})
    )["security_group"]
    ports = [
        await cloud.port(
            net,
            i % HOSTS,
            security_groups=[group["id"]],
            fixed_ips=[{"subnet_id": sub_a if i % 2 else sub_b}],
        )
        for i in range(20)
    ]
    await _idle(cloud)
    listed = (await cloud.call("GET", "/v2.0/ports?device_owner="))["ports"]
    for host in range(HOSTS):
        state = cloud.state(host)
        mine, neighbors = _expected(listed, host, {sub_a, sub_b})
        assert set(state["ports"]) == mine
        assert set(state["neighbors"]) == neighbors
        assert set(state["routers"]) == {router["id"]}
        assert group["id"] in state["security_groups"]
    for port in ports:
        assert await cloud.status(port["id"]) == "ACTIVE"
    started = {t.name for t in cloud.alcor.southbound.transports.started()}
    assert cloud.transport in started | {"auto"}
    channels = cloud.alcor.southbound.channels
    if cloud.transport == "auto":
        assert channels.mode.get(net) == "MQ"
        assert all(channels.subscribed(f"node-{h}", net) for h in range(HOSTS))
    else:
        assert channels.mode == {}


async def test_auto_vpc_switches_to_its_topic_and_back_with_every_host_correct(cloud):
    """Crossing the upper threshold moves neighbors to the VPC topic; below the lower one
    they go back to per-host delivery; deletes on the way are never lost."""
    net, (subnet,) = await cloud.network(["10.42.0.0/24"])
    ports = [await cloud.port(net, i % HOSTS) for i in range(UPPER + 2)]
    await _idle(cloud)
    channels = cloud.alcor.southbound.channels
    assert (channels.mode.get(net) == "MQ") == (cloud.transport == "auto")
    # while on the topic (auto), delete most ports: the DELETEs travel on the topic
    for port in ports[LOWER - 1 :]:
        await cloud.call("DELETE", f"/v2.0/ports/{port['id']}")
    await _idle(cloud)
    assert net not in channels.mode
    remaining = ports[: LOWER - 1]
    more = [await cloud.port(net, 3)]
    await _idle(cloud)
    listed = (await cloud.call("GET", f"/v2.0/ports?network_id={net}"))["ports"]
    assert {p["id"] for p in listed} == {p["id"] for p in remaining + more}
    for host in range(HOSTS):
        state = cloud.state(host)
        mine, neighbors = _expected(listed, host, {subnet})
        assert set(state["ports"]) == mine
        if mine:
            assert set(state["neighbors"]) == neighbors
        else:  # a host without ports there holds none of its neighbors
            left = set(state["neighbors"]) & {p["id"] for p in ports}
            assert not left
    assert all(not channels.subscribed(f"node-{h}", net) for h in range(HOSTS))
