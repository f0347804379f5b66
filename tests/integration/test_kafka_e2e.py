"""End to end through REST to reference agents over Kafka (per-host topics, real broker)."""

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
from alcor.southbound.commands import WaitIdle
from alcor_kafka.transport import agent_group
from tests.integration.kafka_helpers import FETCH_WAIT_MS, kafka_section, running
from tests.integration.test_southbound_e2e import Cloud

HOSTS = 3


@pytest.fixture
async def kafka_cloud(make_config: Any, flaky_kafka: Any) -> AsyncIterator[Cloud]:
    """Start alcor and HOSTS reference agents whose nodes use transport "kafka"."""
    from alcor_kafka.agent_consumer import HostTopicConsumer

    section = kafka_section(flaky_kafka.bootstrap, reply_timeout_s=3)
    config = make_config(
        **{
            "southbound.kafka": section,
            "southbound.retry.base_s": 0.02,
            "southbound.retry.cap_s": 0.2,
        }
    )
    alcor = build(config)
    async with TestClient(TestServer(make_web_app(alcor))) as client:
        dataplane = alcor.southbound
        pool = AgentPool(
            AgentConfig(
                ip="127.3.0.1",
                port=0,
                controller=("127.0.0.1", dataplane.server_port),
                backoff_base_s=0.05,
                backoff_cap_s=0.5,
            ),
            count=HOSTS,
        )
        await pool.start()
        ips = list(pool.agents)
        cloud = Cloud(client, alcor, pool, ips)
        # Consumers first: a group's first start reads from the end of its topic.
        consumers = [
            HostTopicConsumer(
                flaky_kafka.bootstrap,
                section["host_topic_prefix"] + f"node-{i}",
                agent_group(f"node-{i}"),
                ip,
                pool.agent(ip).apply,
                section["reply_topic"],
                fetch_max_wait_ms=FETCH_WAIT_MS,
            )
            for i, ip in enumerate(ips)
        ]
        async with running(*consumers):
            for i, ip in enumerate(ips):
                await cloud.call(
                    "POST",
                    "/nodes",
                    {
                        "host_info": {
                            "node_id": f"node-{i}",
                            "node_name": f"host-{i}",
                            "local_ip": ip,
                            "server_port": pool.agent(ip).port,
                            "transport": "kafka",
                            "mac_address": f"52:54:00:00:03:{i:02x}",
                        }
                    },
                )
            await asyncio.wait_for(pool.wait_restarted(), 20)
            try:
                yield cloud
            finally:
                await pool.stop()


async def test_ports_go_active_and_agents_hold_the_api_state(kafka_cloud):
    """Over Kafka, each agent ends with its ports and every neighbor; ports go ACTIVE."""
    cloud = kafka_cloud
    net, _ = await cloud.network(["10.31.0.0/24"])
    ports = [await cloud.port(net, i % HOSTS) for i in range(6)]
    await cloud.idle()
    for host in range(HOSTS):
        state = cloud.state(host)
        assert set(state["ports"]) == {
            p["id"] for p in ports if p["binding:host_id"] == f"host-{host}"
        }
        assert set(state["neighbors"]) == {p["id"] for p in ports}
    for port in ports:
        assert await cloud.status(port["id"]) == "ACTIVE"
    node = (await cloud.call("GET", "/nodes/node-0"))["host_info"]
    assert node["transport"] == "kafka" and node["southbound"]["connected"] is True


async def test_broker_outage_is_visible_and_loses_nothing(kafka_cloud, flaky_kafka):
    """A broker outage shows in the nodes' delivery state and loses nothing.

    While the broker is unreachable, new ports stay DOWN and the nodes report the error;
    when it is back, every agent converges and the ports go ACTIVE.
    """
    cloud = kafka_cloud
    net, _ = await cloud.network(["10.32.0.0/24"])
    first = await cloud.port(net, 0)
    await cloud.idle()
    await flaky_kafka.disconnect()
    during = [await cloud.port(net, i % HOSTS) for i in range(4)]
    await asyncio.sleep(0.5)
    node = (await cloud.call("GET", "/nodes/node-1"))["host_info"]["southbound"]
    assert node["connected"] is False and node["last_error"].startswith("transport_error")
    assert node["consecutive_failures"] >= 1
    assert all([await cloud.status(p["id"]) == "DOWN" for p in during])
    await flaky_kafka.reconnect()
    await cloud.alcor.bus.call(WaitIdle(timeout=30))
    everything = [first, *during]
    for host in range(HOSTS):
        state = cloud.state(host)
        assert set(state["neighbors"]) == {p["id"] for p in everything}
        assert set(state["ports"]) == {
            p["id"] for p in everything if p["binding:host_id"] == f"host-{host}"
        }
    for port in everything:
        assert await cloud.status(port["id"]) == "ACTIVE"
