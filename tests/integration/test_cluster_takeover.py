"""Three `alcor serve` processes on one PostgreSQL database, real `alcor agent` processes:
creates spread over the processes reach every host; one process killed -9, the others take
its hosts over and nothing is lost."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.cluster import Cluster, call
from tests.kafka_broker import free_port

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]
ADMIN = {"X-Roles": "admin", "X-Project-Id": "p1"}
HOSTS = 6
FAST = {
    "ALCOR__CLUSTER__HEARTBEAT_S": "0.2",
    "ALCOR__CLUSTER__DEAD_AFTER_S": "1.5",
    "ALCOR__CLUSTER__POLL_S": "0.05",
    "ALCOR__SOUTHBOUND__RETRY__BASE_S": "0.05",
    "ALCOR__SOUTHBOUND__RETRY__CAP_S": "0.3",
}
CONVERGE_S = 60.0


async def _eventually(check: Any, what: str) -> Any:
    """Poll `check()` until it returns a true value (no fixed sleep); fail after a minute."""
    last: Any = None
    async with asyncio.timeout(CONVERGE_S):
        while True:
            try:
                last = await check()
            except (aiohttp.ClientError, AssertionError) as exc:
                last = exc
            else:
                if last:
                    return last
            await asyncio.sleep(0.1)
    pytest.fail(f"{what}: {last!r}")  # unreachable: the timeout raises first


def _start_agents(tmp_path: Path, register: str, admin_port: int) -> subprocess.Popen[bytes]:
    with (tmp_path / "agents.log").open("wb") as log:
        return _popen_agents(log, register, admin_port)


def _popen_agents(log: Any, register: str, admin_port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "alcor"),
            "agent",
            "--listen",
            f"127.31.0.1:{free_port()}",
            "--count",
            str(HOSTS),
            "--node-id",
            "host",
            "--admin",
            f"127.0.0.1:{admin_port}",
            "--register",
            register,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def test_three_processes_deliver_everything_and_survive_a_kill(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Every host holds exactly the API's state, before and after a process is killed -9."""
    procs = [await cluster.start(**FAST) for _ in range(3)]
    urls = [p.url for p in procs]
    admin_port = free_port()
    agents = _start_agents(tmp_path, urls[0], admin_port)
    try:
        async with aiohttp.ClientSession() as session:
            await _run(session, cluster, urls, f"http://127.0.0.1:{admin_port}")
    finally:
        agents.kill()
        agents.wait()


async def _run(
    session: aiohttp.ClientSession, cluster: Cluster, urls: list[str], agents_url: str
) -> None:
    nodes = [f"host-{i}" for i in range(HOSTS)]

    async def registered() -> bool:
        status, body = await call(session, urls[1], "GET", "/nodes", None, ADMIN)
        return status == 200 and {n["node_id"] for n in body["host_infos"]} == set(nodes)

    await _eventually(registered, "agents registered")
    status, body = await call(session, urls[0], "POST", "/v2.0/networks", {"network": {}}, ADMIN)
    net = body["network"]
    subnet = {"network_id": net["id"], "cidr": "10.40.0.0/24", "ip_version": 4}
    status, _ = await call(session, urls[1], "POST", "/v2.0/subnets", {"subnet": subnet}, ADMIN)
    assert status == 201

    ports = await _create_ports(session, urls, net["id"], nodes * 4)
    await _converged(session, urls, agents_url, ports, nodes)

    owners = await _owners(session, urls, nodes)
    victim = owners[nodes[0]]
    taken = sorted(n for n, owner in owners.items() if owner == victim)
    cluster.kill(victim)
    survivors = [u for i, u in enumerate(urls) if i != victim]

    # Changes while and after the process dies, through the survivors only.
    ports.update(await _create_ports(session, survivors, net["id"], taken * 2 + nodes))
    gone = next(p for p in ports.values() if p["binding:host_id"] == taken[0])
    status, _ = await call(
        session, survivors[0], "DELETE", f"/v2.0/ports/{gone['id']}", None, ADMIN
    )
    assert status == 204
    del ports[gone["id"]]
    await _converged(session, survivors, agents_url, ports, nodes)
    # Every host, the dead process's included, has exactly one owner among the survivors.
    after = await _owners(session, survivors, nodes)
    assert set(after) == set(nodes) and taken


async def _create_ports(
    session: aiohttp.ClientSession, urls: list[str], net_id: str, hosts: list[str]
) -> dict[str, dict[str, Any]]:
    """Create one port per entry of `hosts` (bound to it) at once, round-robin over `urls`."""
    turns = itertools.cycle(urls)
    created = await asyncio.gather(
        *(
            call(
                session,
                next(turns),
                "POST",
                "/v2.0/ports",
                {"port": {"network_id": net_id, "binding:host_id": host}},
                ADMIN,
            )
            for host in hosts
        )
    )
    assert all(s == 201 for s, _ in created), [b for s, b in created if s != 201][:3]
    return {b["port"]["id"]: b["port"] for _, b in created}


async def _owners(
    session: aiohttp.ClientSession, urls: list[str], nodes: list[str]
) -> dict[str, int]:
    """Return node -> index in `urls` of the process that delivers to it (exactly one)."""

    async def found() -> dict[str, int] | None:
        owners: dict[str, int] = {}
        for index, url in enumerate(urls):
            for node in nodes:
                status, body = await call(session, url, "GET", f"/nodes/{node}", None, ADMIN)
                assert status == 200
                if body["host_info"].get("southbound"):
                    assert node not in owners, f"{node} has two owners"
                    owners[node] = index
        return owners if set(owners) == set(nodes) else None

    result: dict[str, int] = await _eventually(found, "every host has one owner")
    return result


async def _converged(
    session: aiohttp.ClientSession,
    urls: list[str],
    agents_url: str,
    ports: dict[str, dict[str, Any]],
    nodes: list[str],
) -> None:
    """Wait until every host holds exactly its ports and every neighbor, all ACTIVE."""
    by_host = {n: {p for p, port in ports.items() if port["binding:host_id"] == n} for n in nodes}

    async def agents_hold() -> bool:
        status, body = await call(session, agents_url, "GET", "/agents")
        assert status == 200
        for agent in body:
            _, state = await call(session, agents_url, "GET", f"/agents/{agent['ip']}/state")
            node = agent["node_id"]
            assert set(state["ports"]) == by_host[node], node
            assert set(state["neighbors"]) == set(ports), node
        return True

    await _eventually(agents_hold, "agents hold exactly the API state")

    async def active() -> bool:
        _, body = await call(session, urls[-1], "GET", "/v2.0/ports?device_owner=", None, ADMIN)
        statuses = {p["id"]: p["status"] for p in body["ports"]}
        return all(statuses.get(p) == "ACTIVE" for p in ports)

    await _eventually(active, "every port ACTIVE")
