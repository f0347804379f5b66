"""End to end through REST to real reference agents over real gRPC on loopback."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.agent.agent import Agent, AgentConfig
from alcor.agent.pool import AgentPool
from alcor.api.web import make_web_app
from alcor.app import build
from alcor.managers.port.messages import SetPortStatus
from alcor.southbound.commands import WaitIdle
from tests.unit.agent.agent_helpers import goal_state, neighbor

_NETS = itertools.count(1)
# Southbound retries fast enough for tests that stop and start agents.
FAST_RETRIES = {"southbound.retry.base_s": 0.02, "southbound.retry.cap_s": 0.2}


class Cloud:
    """A started alcor plus N agents registered as nodes host-0..N-1."""

    def __init__(self, client: TestClient, alcor: Any, pool: AgentPool, ips: list[str]) -> None:
        self.client = client
        self.alcor = alcor
        self.pool = pool
        self.ips = ips

    async def call(
        self, method: str, path: str, body: Any = None, status: int | None = None
    ) -> Any:
        resp = await self.client.request(method, path, json=body)
        data = await resp.json() if resp.status != 204 else None
        if status is not None:
            assert resp.status == status, data
        else:
            assert resp.status < 300, data
        return data

    async def idle(self) -> None:
        await self.alcor.bus.call(WaitIdle(timeout=20))

    def state(self, host: int) -> dict[str, Any]:
        return self.pool.state(self.ips[host])

    async def network(self, cidrs: list[str]) -> tuple[str, list[str]]:
        net = await self.call("POST", "/v2.0/networks", {"network": {"name": f"n{next(_NETS)}"}})
        subnets = []
        for cidr in cidrs:
            sub = await self.call(
                "POST",
                "/v2.0/subnets",
                {"subnet": {"network_id": net["network"]["id"], "cidr": cidr}},
            )
            subnets.append(sub["subnet"]["id"])
        return net["network"]["id"], subnets

    async def port(self, network_id: str, host: int | None, **extra: Any) -> dict[str, Any]:
        body = {"network_id": network_id, **extra}
        if host is not None:
            body["binding:host_id"] = f"host-{host}"
        return (await self.call("POST", "/v2.0/ports", {"port": body}))["port"]

    async def status(self, port_id: str) -> str:
        return (await self.call("GET", f"/v2.0/ports/{port_id}"))["port"]["status"]


async def _start_cloud(
    make_config: Any, hosts: int, base: str, **overrides: Any
) -> AsyncIterator[Cloud]:
    config = make_config(**overrides)
    alcor = build(config)
    async with TestClient(TestServer(make_web_app(alcor))) as client:
        dataplane = alcor.southbound
        pool = AgentPool(
            AgentConfig(
                ip=base,
                port=0,
                controller=("127.0.0.1", dataplane.server_port),
                backoff_base_s=0.05,
                backoff_cap_s=0.5,
            ),
            count=hosts,
        )
        await pool.start()
        ips = list(pool.agents)
        cloud = Cloud(client, alcor, pool, ips)
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
                        "agent_type": "alcor",
                        "mac_address": f"52:54:00:00:00:{i:02x}",
                    }
                },
            )
        await asyncio.wait_for(pool.wait_restarted(), 20)
        try:
            yield cloud
        finally:
            await pool.stop()


@pytest.fixture
async def cloud(make_config: Any) -> AsyncIterator[Cloud]:
    """Four hosts with fast southbound retries."""
    async for item in _start_cloud(
        make_config,
        4,
        "127.2.0.1",
        **FAST_RETRIES,
    ):
        yield item


def _expected_neighbors(ports: list[dict[str, Any]], reachable: set[str]) -> set[str]:
    return {
        p["id"]
        for p in ports
        if p["binding:host_id"] and any(f["subnet_id"] in reachable for f in p["fixed_ips"])
    }


async def test_four_hosts_two_subnets_and_a_router_end_with_exactly_the_api_state(cloud):
    """Each agent holds its own ports, every reachable neighbor, the router and the SGs."""
    net_a, (sub_a,) = await cloud.network(["10.1.0.0/24"])
    net_b, (sub_b,) = await cloud.network(["10.2.0.0/24"])
    router = (await cloud.call("POST", "/v2.0/routers", {"router": {"name": "r"}}))["router"]
    for subnet in (sub_a, sub_b):
        await cloud.call(
            "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet}
        )
    group = (
        await cloud.call("POST", "/v2.0/security-groups", {"security_group": {"name": "web"}})
    )["security_group"]
    await cloud.call(
        "POST",
        "/v2.0/security-group-rules",
        {
            "security_group_rule": {
                "security_group_id": group["id"],
                "direction": "ingress",
                "protocol": "tcp",
                "port_range_min": 80,
                "port_range_max": 80,
            }
        },
    )
    ports = []
    for i in range(20):
        ports.append(
            await cloud.port(net_a if i % 2 else net_b, i % 4, security_groups=[group["id"]])
        )
    await cloud.idle()
    listed = (await cloud.call("GET", "/v2.0/ports?device_owner="))["ports"]
    for host in range(4):
        state = cloud.state(host)
        mine = {p["id"] for p in listed if p["binding:host_id"] == f"host-{host}"}
        assert set(state["ports"]) == mine
        assert set(state["neighbors"]) == _expected_neighbors(listed, {sub_a, sub_b})
        assert set(state["routers"]) == {router["id"]}
        assert group["id"] in state["security_groups"]
        for port_id in mine:
            assert state["applied"]["PORT"][port_id] == next(
                p["revision_number"] for p in listed if p["id"] == port_id
            )
    for port in ports:
        assert await cloud.status(port["id"]) == "ACTIVE"
    # neighbors of routed subnets are L3 everywhere
    any_state = cloud.state(0)
    assert {
        f["neighbor_type"] for n in any_state["neighbors"].values() for f in n["fixed_ips"]
    } == {"L3"}


async def test_port_delete_removes_its_neighbor_everywhere(cloud):
    """A deleted port disappears from its host and from every peer's neighbor table."""
    net, _ = await cloud.network(["10.3.0.0/24"])
    ports = [await cloud.port(net, h) for h in range(4)]
    await cloud.idle()
    assert all(ports[0]["id"] in cloud.state(h)["neighbors"] for h in range(4))
    await cloud.call("DELETE", f"/v2.0/ports/{ports[0]['id']}")
    await cloud.idle()
    for host in range(4):
        assert ports[0]["id"] not in cloud.state(host)["neighbors"]
    assert ports[0]["id"] not in cloud.state(0)["ports"]


async def test_racing_migrations_end_on_the_later_host_only(cloud):
    """Two concurrent binding updates: the port ends on the later host, stale state nowhere."""
    net, _ = await cloud.network(["10.4.0.0/24"])
    port = await cloud.port(net, 0)
    await cloud.port(net, 3)
    await cloud.idle()
    await asyncio.gather(
        cloud.call("PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "host-1"}}),
        cloud.call("PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": "host-2"}}),
    )
    await cloud.idle()
    final = (await cloud.call("GET", f"/v2.0/ports/{port['id']}"))["port"]
    owner = int(final["binding:host_id"].split("-")[1])
    assert owner in (1, 2)
    for host in range(4):
        state = cloud.state(host)
        assert (port["id"] in state["ports"]) == (host == owner)
        neighbor = state["neighbors"].get(port["id"])
        if neighbor is not None:
            assert neighbor["host_ip_address"] == cloud.ips[owner]
            assert neighbor["revision_number"] >= final["revision_number"]
    assert final["status"] == "ACTIVE"


async def test_restarted_agent_gets_its_full_state_back(cloud):
    """AGENT_RESTARTED: a wiped agent asks the controller and ends with the same state."""
    net, _ = await cloud.network(["10.5.0.0/24"])
    for host in range(4):
        await cloud.port(net, host)
    await cloud.idle()
    before = cloud.state(1)
    agent = cloud.pool.agent(cloud.ips[1])
    await agent.restart()
    assert cloud.state(1)["ports"] == {}
    await asyncio.wait_for(agent.restarted.wait(), 20)
    await cloud.idle()
    after = cloud.state(1)
    assert set(after["ports"]) == set(before["ports"])
    assert set(after["neighbors"]) == set(before["neighbors"])


async def test_unreachable_agent_keeps_ports_down_and_recovers(cloud):
    """Ports of a stopped agent stay DOWN; when it listens again they go ACTIVE."""
    net, _ = await cloud.network(["10.6.0.0/24"])
    ip = cloud.ips[2]
    agent = cloud.pool.agent(ip)
    await agent.stop()
    port = await cloud.port(net, 2)
    node = (await cloud.call("GET", "/nodes/node-2"))["host_info"]["southbound"]
    for _ in range(200):
        node = (await cloud.call("GET", "/nodes/node-2"))["host_info"]["southbound"]
        if node["consecutive_failures"] >= 2:
            break
        await asyncio.sleep(0.02)
    assert node["consecutive_failures"] >= 2 and node["last_error"]
    assert await cloud.status(port["id"]) == "DOWN"
    await agent.start()
    await cloud.idle()
    assert await cloud.status(port["id"]) == "ACTIVE"
    assert port["id"] in cloud.state(2)["ports"]


async def test_on_demand_pushes_a_known_neighbor_and_fails_an_unknown_one(cloud):
    """ON_DEMAND: FAILURE for an unknown destination; a known one is pushed before SUCCESS."""
    net_id, (sub_a, sub_b) = await cloud.network(["10.7.0.0/24", "10.8.0.0/24"])
    await cloud.port(net_id, 3, fixed_ips=[{"subnet_id": sub_a}])
    target = await cloud.port(net_id, 0, fixed_ips=[{"subnet_id": sub_b}])
    await cloud.idle()
    agent = cloud.pool.agent(cloud.ips[3])
    assert target["id"] not in cloud.state(3)["neighbors"]  # subnet B is not reachable there
    tunnel = (await cloud.call("GET", f"/v2.0/networks/{net_id}"))["network"][
        "provider:segmentation_id"
    ]
    answer = await agent.arp(tunnel, target["fixed_ips"][0]["ip_address"])
    assert answer["mac"] == target["mac_address"]
    assert target["id"] in cloud.state(3)["neighbors"]
    missing = await agent.arp(tunnel, "10.7.0.250")
    assert missing.get("mac") is None
    assert cloud.state(3)["counters"].get("on_demand:FAILURE") == 1


async def test_on_demand_answers_only_for_the_requesters_vpcs(cloud):
    """A host without a port in a VPC learns nothing of it on demand (no leak)."""
    net_id, _ = await cloud.network(["10.17.0.0/24"])
    other_id, _ = await cloud.network(["10.18.0.0/24"])
    await cloud.port(other_id, 3)  # host 3 is in the other VPC only
    target = await cloud.port(net_id, 0)
    await cloud.idle()
    tunnel = (await cloud.call("GET", f"/v2.0/networks/{net_id}"))["network"][
        "provider:segmentation_id"
    ]
    answer = await cloud.pool.agent(cloud.ips[3]).arp(tunnel, target["fixed_ips"][0]["ip_address"])
    assert answer["found"] is False and answer["on_demand_status"] == "FAILURE"
    assert target["id"] not in cloud.state(3)["neighbors"]


async def test_an_on_demand_neighbor_is_withdrawn_with_its_port(cloud):
    """The neighbor pushed on demand leaves the host when its port is deleted."""
    net_id, (sub_a, sub_b) = await cloud.network(["10.27.0.0/24", "10.28.0.0/24"])
    await cloud.port(net_id, 3, fixed_ips=[{"subnet_id": sub_a}])
    target = await cloud.port(net_id, 0, fixed_ips=[{"subnet_id": sub_b}])
    await cloud.idle()
    tunnel = (await cloud.call("GET", f"/v2.0/networks/{net_id}"))["network"][
        "provider:segmentation_id"
    ]
    agent = cloud.pool.agent(cloud.ips[3])
    assert (await agent.arp(tunnel, target["fixed_ips"][0]["ip_address"]))["found"]
    assert target["id"] in cloud.state(3)["neighbors"]
    await cloud.call("DELETE", f"/v2.0/ports/{target['id']}", status=204)
    await cloud.idle()
    assert target["id"] not in cloud.state(3)["neighbors"]
    assert all(e["port_id"] != target["id"] for e in cloud.state(3)["arp"])
    node = await cloud.call("GET", "/nodes/node-3")
    assert node["host_info"]["southbound"]["resources"]["NEIGHBOR"]["unacked"] == 0


def _port_waits(text: str) -> float:
    """Return how many own-host waits /metrics has counted (alcor_sb_port_wait_seconds)."""
    match = re.search(r"^alcor_sb_port_wait_seconds_count (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_metrics_expose_delivery_and_resource_series(cloud):
    """/metrics has the HTTP, resource, port-status and per-node southbound series."""
    net, _ = await cloud.network(["10.9.0.0/24"])
    waits = _port_waits(await (await cloud.client.get("/metrics")).text())
    await cloud.port(net, 1)
    await cloud.idle()
    resp = await cloud.client.get("/metrics")
    text = await resp.text()
    assert resp.status == 200
    assert _port_waits(text) > waits  # the bound port's own host: one wait observed
    for series in (
        'alcor_http_requests_total{method="POST",route="/v2.0/ports",status="201"}',
        'alcor_resources{type="port"}',
        'alcor_ports{status="ACTIVE"}',
        'alcor_nodes{transport="grpc"} 4.0',
        'alcor_sb_push_total{node="node-1"',
        'alcor_sb_pending_states{node="node-1"} 0.0',
        "alcor_sb_push_seconds_bucket",
    ):
        assert series in text, series


async def test_security_group_rule_changes_reach_the_hosts_that_hold_the_group(cloud):
    """A rule added to a group in use is pushed to that host only; an unused group to none."""
    net, _ = await cloud.network(["10.10.0.0/24"])
    used = (
        await cloud.call("POST", "/v2.0/security-groups", {"security_group": {"name": "used"}})
    )["security_group"]
    unused = (
        await cloud.call("POST", "/v2.0/security-groups", {"security_group": {"name": "unused"}})
    )["security_group"]
    await cloud.port(net, 1, security_groups=[used["id"]])
    await cloud.idle()
    for group in (used, unused):
        await cloud.call(
            "POST",
            "/v2.0/security-group-rules",
            {
                "security_group_rule": {
                    "security_group_id": group["id"],
                    "direction": "ingress",
                    "protocol": "udp",
                    "port_range_min": 53,
                    "port_range_max": 53,
                }
            },
        )
    await cloud.idle()
    rules = cloud.state(1)["sg_rules"][used["id"]]
    assert any(r.get("protocol") == "UDP" and r.get("port_range_min") == 53 for r in rules)
    assert all(unused["id"] not in cloud.state(h)["security_groups"] for h in range(4))
    assert all(used["id"] not in cloud.state(h)["security_groups"] for h in (0, 2, 3))


async def _audit(cloud, node_id: str, repair: bool = False) -> dict[str, Any]:
    method, path = ("POST", "repair") if repair else ("GET", "audit")
    return (await cloud.call(method, f"/nodes/{node_id}/southbound/{path}"))["audit"]


async def test_audit_is_clean_when_hosts_hold_their_views(cloud):
    """After convergence every host's inventory equals its intent."""
    net_id, _ = await cloud.network(["10.31.0.0/24"])
    for host in range(4):
        await cloud.port(net_id, host)
    await cloud.idle()
    for i in range(4):
        result = await _audit(cloud, f"node-{i}")
        assert (result["clean"], result["source"], result["kinds"]) == (True, "agent", {})


async def test_audit_finds_and_repairs_an_agent_that_lost_its_tables(cloud):
    """An agent wiped without announcing shows everything missing; repair restores it."""
    net_id, _ = await cloud.network(["10.32.0.0/24"])
    ports = [await cloud.port(net_id, host) for host in range(3)]
    await cloud.idle()
    before = cloud.state(1)
    agent = cloud.pool.agent(cloud.ips[1])
    agent.lose_tables()
    result = await _audit(cloud, "node-1")
    assert not result["clean"]
    assert sorted(result["kinds"]["NEIGHBOR"]["missing"]) == sorted(p["id"] for p in ports)
    assert result["kinds"]["PORT"]["missing"] == [ports[1]["id"]]
    repaired = await _audit(cloud, "node-1", repair=True)
    assert repaired["repaired"] is True
    await cloud.idle()
    after = cloud.state(1)
    for table in ("ports", "neighbors", "subnets", "vpcs", "dhcp"):
        assert after[table] == before[table], table
    assert sorted(after["arp"], key=lambda e: e["ip"]) == sorted(
        before["arp"], key=lambda e: e["ip"]
    )
    assert (await _audit(cloud, "node-1"))["clean"]


async def test_audit_repair_deletes_what_a_host_should_not_hold(cloud):
    """An entry nobody sent (or a leftover) is extra; repair deletes exactly it."""
    net_id, (subnet_id,) = await cloud.network(["10.33.0.0/24"])
    await cloud.port(net_id, 0)
    await cloud.idle()
    agent = cloud.pool.agent(cloud.ips[0])
    stray = neighbor(pid="0000aaaa-0000-0000-0000-000000000001", ip="10.33.0.200", sid=subnet_id)
    agent.apply_goal_state_bytes(goal_state(stray))
    assert stray[2].configuration.id in cloud.state(0)["neighbors"]
    result = await _audit(cloud, "node-0", repair=True)
    assert result["kinds"] == {
        "NEIGHBOR": {"missing": [], "stale": [], "extra": [stray[2].configuration.id]}
    }
    await cloud.idle()
    assert stray[2].configuration.id not in cloud.state(0)["neighbors"]
    assert (await _audit(cloud, "node-0"))["clean"]


async def test_periodic_audit_repairs_drift_on_its_own(make_config):
    """With southbound.audit_interval_s set, drift is found and repaired without a call."""
    async for cloud in _start_cloud(
        make_config, 2, "127.2.1.1", **{"southbound.audit_interval_s": 0.2}
    ):
        net_id, _ = await cloud.network(["10.34.0.0/24"])
        port = await cloud.port(net_id, 1)
        await cloud.idle()
        agent = cloud.pool.agent(cloud.ips[1])
        agent.lose_tables()
        async with asyncio.timeout(10):
            while port["id"] not in cloud.state(1)["ports"]:
                await asyncio.sleep(0.05)
        node = await cloud.call("GET", "/nodes/node-1")
        assert node["host_info"]["southbound"]["last_audit"]["source"] == "agent"


async def test_a_port_bound_before_its_host_registers_is_programmed_when_it_does(cloud):
    """Binding to a host name nobody registered yet waits; registering the node programs it."""
    net_id, _ = await cloud.network(["10.35.0.0/24"])
    port = await cloud.port(net_id, None, **{"binding:host_id": "late-host"})
    assert port["binding:vif_type"] == "binding_failed"
    late = Agent(AgentConfig(ip="127.2.9.1", port=0))
    await late.start()
    try:
        await cloud.call(
            "POST",
            "/nodes",
            {
                "host_info": {
                    "node_id": "late",
                    "node_name": "late-host",
                    "local_ip": late.ip,
                    "server_port": late.port,
                    "agent_type": "alcor",
                    "mac_address": "52:54:00:00:09:01",
                }
            },
        )
        await cloud.idle()
        assert await cloud.status(port["id"]) == "ACTIVE"
        assert port["id"] in late.state.ports
    finally:
        await late.stop()


async def test_port_statuses_of_replies_close_together_share_one_transaction(cloud, monkeypatch):
    """Statuses queued within the writer's short batch go in one transaction (a reply per
    port must not cost a commit per port); every port then reads ACTIVE."""
    net, _ = await cloud.network(["10.70.0.0/24"])
    ports = [await cloud.port(net, None) for _ in range(3)]
    await cloud.idle()
    engine = cloud.alcor.southbound
    writes: list[dict[str, str]] = []
    call = engine.bus.call

    async def counting(cmd: Any) -> Any:
        if isinstance(cmd, SetPortStatus):
            writes.append(dict(cmd.statuses))
        return await call(cmd)

    monkeypatch.setattr(engine.bus, "call", counting)
    for port in ports:  # as three replies would, one loop turn apart
        engine.set_status(port["id"], "ACTIVE", port["revision_number"])
        engine._write_statuses_soon()
        await asyncio.sleep(0)
    await cloud.idle()
    assert writes == [{p["id"]: ("ACTIVE", p["revision_number"]) for p in ports}]
    assert [await cloud.status(p["id"]) for p in ports] == ["ACTIVE"] * 3


async def test_a_status_decided_for_a_revision_the_port_has_left_is_not_written(cloud):
    """A host's answer about revision N can be read while the port is already at N + 1 in
    the database (moved to another host, updated) and not yet in the engine's picture: the
    status decided from it must not land on the newer revision (the chaos scenario of
    paused agents showed a port ACTIVE on a host that never received it)."""
    net, _ = await cloud.network(["10.71.0.0/24"])
    port = await cloud.port(net, None)
    await cloud.idle()
    assert await cloud.status(port["id"]) == "DOWN"
    path = f"/v2.0/ports/{port['id']}"
    updated = (await cloud.call("PUT", path, {"port": {"name": "moved on"}}))["port"]
    assert updated["revision_number"] > port["revision_number"]
    engine = cloud.alcor.southbound
    engine.set_status(port["id"], "ACTIVE", port["revision_number"])  # the late answer
    engine._write_statuses_soon()
    await cloud.idle()
    assert await cloud.status(port["id"]) == "DOWN"
    engine.set_status(port["id"], "ACTIVE", updated["revision_number"])
    engine._write_statuses_soon()
    await cloud.idle()
    assert await cloud.status(port["id"]) == "ACTIVE"
