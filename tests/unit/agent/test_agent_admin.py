"""The agent pool's admin HTTP API and the `agent` command."""

from __future__ import annotations

import asyncio
import random
import signal
import sys

import pytest
from agent_helpers import TUNNEL, context, goal_state, neighbor, port

from alcor.agent import AgentConfig, AgentPool, ApplyOptions
from alcor.agent.admin import AdminServer, make_admin_app


@pytest.fixture
async def pool():
    """Three started agents on a random 127.X.Y.1.. range, no controller."""
    base = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}.1"
    p = AgentPool(
        AgentConfig(ip=base, port=0, apply=ApplyOptions(pending_until_plug=True)), count=3
    )
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
async def client(aiohttp_client, pool):
    """An HTTP client for the admin app of `pool`."""
    return await aiohttp_client(make_admin_app(pool))


async def test_list_and_state(client, pool):
    """GET /agents lists every agent; GET /agents/{ip}/state dumps its tables."""
    ip = list(pool.agents)[1]
    pool.agent(ip).apply_goal_state_bytes(goal_state(*context(), neighbor()))
    resp = await client.get("/agents")
    assert resp.status == 200
    assert [a["ip"] for a in await resp.json()] == list(pool.agents)
    state = await (await client.get(f"/agents/{ip}/state")).json()
    assert state["neighbors"]["p-a"]["mac_address"] == "fa:16:3e:aa:aa:aa"
    assert state["arp"] == [
        {
            "ip": "10.10.0.5",
            "tunnel_id": TUNNEL,
            "mac": "fa:16:3e:aa:aa:aa",
            "host_ip": "192.168.1.11",
            "port_id": "p-a",
            "source": "fixed",
        }
    ]
    assert state == pool.state(ip)
    assert (await client.get("/agents/10.9.9.9/state")).status == 404


async def test_arp_packet_and_plug(client, pool):
    """POST arp/packet look up the table (no controller: miss); plug ends PENDING."""
    ip = next(iter(pool.agents))
    agent = pool.agent(ip)
    agent.apply_goal_state_bytes(goal_state(*context(), neighbor()))
    hit = await (
        await client.post(
            f"/agents/{ip}/arp",
            json={"tunnel_id": TUNNEL, "ip": "10.10.0.5", "src_ip": "10.10.0.6"},
        )
    ).json()
    assert (hit["found"], hit["mac"], hit["port_id"]) == (True, "fa:16:3e:aa:aa:aa", "p-a")
    miss = await (
        await client.post(
            f"/agents/{ip}/packet",
            json={
                "tunnel_id": TUNNEL,
                "src_ip": "10.10.0.6",
                "dst_ip": "10.10.0.77",
                "protocol": "icmp",
            },
        )
    ).json()
    assert (miss["found"], miss["on_demand_status"]) == (False, "FAILURE")
    assert (await client.post(f"/agents/{ip}/arp", json={"ip": "x"})).status == 400
    assert (await client.post(f"/agents/{ip}/arp", data=b"[")).status == 400

    reply = agent.apply_goal_state_bytes(goal_state(port()))
    assert reply.operation_statuses[0].operation_status.name == "PENDING"
    assert (await client.post(f"/agents/{ip}/plug/p-b")).status == 200
    reply = agent.apply_goal_state_bytes(goal_state(port()))
    assert reply.operation_statuses[0].operation_status.name == "SUCCESS"


async def test_restart_and_delete(client, pool):
    """POST restart wipes the agent; DELETE stops it and removes it from the list."""
    ip = list(pool.agents)[2]
    pool.agent(ip).apply_goal_state_bytes(goal_state(*context()))
    assert (await client.post(f"/agents/{ip}/restart")).status == 202
    assert pool.state(ip)["subnets"] == {}
    assert (await client.delete(f"/agents/{ip}")).status == 204
    assert ip not in [a["ip"] for a in await (await client.get("/agents")).json()]
    assert (await client.delete(f"/agents/{ip}")).status == 404


async def test_admin_server_binds_an_ephemeral_port(pool):
    """AdminServer with port 0 serves on the bound port it reports."""
    import aiohttp

    server = AdminServer(pool, "127.0.0.1", 0)
    await server.start()
    try:
        async with (
            aiohttp.ClientSession() as s,
            s.get(f"http://127.0.0.1:{server.port}/agents") as resp,
        ):
            assert len(await resp.json()) == 3
    finally:
        await server.stop()


async def test_agent_command_runs_until_sigterm():
    """`python -m alcor.agent` serves, answers --show-state, and exits 0 on SIGTERM."""
    base = f"127.{random.randint(100, 250)}.{random.randint(0, 250)}.1"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alcor.agent",
        "--listen",
        f"{base}:0",
        "--count",
        "2",
        "--admin",
        "127.0.0.1:0",
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        admin = None
        while admin is None:
            line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
            assert line, "agent exited early"
            if "admin http://" in line:
                admin = line.rsplit("http://", 1)[1].strip()
        shown = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "alcor.agent",
            "--admin",
            admin,
            "--show-state",
            base,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await shown.communicate()
        assert shown.returncode == 0, out
        assert f"agent {base}".encode() in out and b"counters" in out
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_show_state_prints_one_table_per_kind_and_the_counters():
    """The state dump is shown as readable tables: ids first, long values cut."""
    from rich.console import Console

    from alcor.agent.cli import print_state

    state = {
        "ip": "127.1.0.1",
        "ports": {"p-1": {"name": "web", "revisionNumber": 3, "fixedIps": [{"ip": "10.0.0.5"}]}},
        "neighbors": {},
        "arp": [{"ip": "10.0.0.5", "mac": "fa:16:3e:00:00:01"}],
        "last_errors": ["x" * 80],
        "counters": {"applied": 4},
    }
    console = Console(record=True, width=200)
    print_state(state, console)
    text = console.export_text()
    assert "agent 127.1.0.1" in text and "ports (1)" in text and "arp (1)" in text
    assert "p-1" in text and "web" in text and '[{"ip":"10.0.0.5"}]' in text
    assert "neighbors" not in text  # empty tables are left out
    assert "x" * 47 + "…" in text and "applied" in text
