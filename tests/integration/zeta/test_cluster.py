"""Two real `alcor serve` processes on one PostgreSQL database, one Zeta double.

Zeta is not idempotent: a second create of a VPC or port, or a delete of one that is gone,
is a 500 there. So "every call exactly once" is "every write the double received was
answered 2xx", and nothing may be lost: at the end the double holds exactly what the
database says Zeta was told (`gateways`, `gateway_ports`), with no outbox row pending.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
import pytest

from alcor.southbound.ownership import owner_of
from tests.cluster import Cluster, Process, call, held, lock_waiters, share
from tests.zeta_double import ZetaDouble

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]
ADMIN = {"X-Roles": "admin", "X-Project-Id": "p1"}
HOSTS = {"host-1": "192.0.2.11", "host-2": "192.0.2.12", "host-3": "192.0.2.13"}
SETTLE_S = 60.0


def _settings(zeta: ZetaDouble) -> dict[str, str]:
    """Fast heartbeats and retries; the double as Zeta."""
    return {
        "ALCOR__CLUSTER__HEARTBEAT_S": "0.2",
        "ALCOR__CLUSTER__DEAD_AFTER_S": "1.5",
        "ALCOR__CLUSTER__POLL_S": "0.05",
        "ALCOR__ZETA__ENABLED": "true",
        "ALCOR__ZETA__URL": f'"{zeta.url}"',  # type: ignore[attr-defined]
        "ALCOR__ZETA__TIMEOUT_S": "10",
        "ALCOR__ZETA__RETRY_BASE_S": "0.01",
        "ALCOR__ZETA__RETRY_CAP_S": "0.05",
        "ALCOR__ZETA__LINGER_S": "0.02",
    }


class Client:
    """Admin requests to the processes of a cluster."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def ok(
        self, url: str, method: str, path: str, body: Any = None, status: int = 200
    ) -> Any:
        """Send one request that must answer `status`; return the body."""
        got, reply = await call(self.session, url, method, path, body, ADMIN)
        assert got == status, (method, path, got, reply)
        return reply

    async def network(self, url: str, index: int) -> str:
        """Create a network (VXLAN: it gets a gateway) with one subnet; return its id."""
        net = (await self.ok(url, "POST", "/v2.0/networks", {"network": {}}, 201))["network"]
        subnet = {"network_id": net["id"], "cidr": f"10.{index}.0.0/16", "ip_version": 4}
        await self.ok(url, "POST", "/v2.0/subnets", {"subnet": subnet}, 201)
        return str(net["id"])

    async def ports(self, urls: list[str], networks: list[str], per_network: int) -> list[str]:
        """Create `per_network` bound ports in each network at once, the creates spread
        round-robin over `urls` (every lane gets rows from every process); return their ids."""
        turns, hosts = itertools.cycle(urls), itertools.cycle(HOSTS)
        creates = [
            self.ok(
                next(turns),
                "POST",
                "/v2.0/ports",
                {"port": {"network_id": net, "binding:host_id": next(hosts)}},
                201,
            )
            for _ in range(per_network)
            for net in networks
        ]
        return [body["port"]["id"] for body in await asyncio.gather(*creates)]

    async def gateways(self, url: str) -> dict[str, dict[str, Any]]:
        """Return the gateways by network id."""
        found = (await self.ok(url, "GET", "/v2.0/gateways"))["gateways"]
        return {g["network_id"]: g for g in found}


async def _setup(cluster: Cluster, zeta: ZetaDouble, count: int) -> list[Process]:
    """Start `count` processes with Zeta enabled."""
    return [await cluster.start(**_settings(zeta)) for _ in range(count)]


async def _nodes(client: Client, url: str) -> None:
    for name, ip in HOSTS.items():
        node = {"node_name": name, "local_ip": ip, "mac_address": "52:54:00:12:34:56"}
        await client.ok(url, "POST", "/nodes", {"host_info": node}, 201)


async def _eventually(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Poll `check()` until it returns a true value; fail after SETTLE_S."""
    deadline = time.monotonic() + SETTLE_S
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    pytest.fail(f"{what}: {last!r}")


async def _settled(
    client: Client, url: str, zeta: ZetaDouble, networks: set[str], ports: set[str]
) -> None:
    """Wait until exactly `networks` have a READY gateway with nothing pending, and the
    double holds exactly `ports`."""
    state: dict[str, Any] = {}

    async def check() -> bool:
        gateways = await client.gateways(url)
        state["gateways"] = {n: (g["status"], g["pending_operations"]) for n, g in gateways.items()}
        state["missing"] = sorted(ports - set(zeta.ports))
        state["extra"] = sorted(set(zeta.ports) - ports)
        state["vpcs"] = set(zeta.vpcs) ^ networks
        ready = all(p == ("READY", 0) for p in state["gateways"].values())
        return set(gateways) == networks and ready and not state["missing"] + state["extra"]

    try:
        await _eventually(check, "gateways settled and every port at Zeta")
    except pytest.fail.Exception:
        writes = [(c.method, c.path, c.status, c.vpc) for c in zeta.calls if c.method != "GET"]
        pytest.fail(f"not settled: {state}; Zeta's writes: {writes}")


async def _database_is_zeta(db_url: str, zeta: ZetaDouble) -> None:
    """The double holds exactly what the database says Zeta was told, nothing pending."""
    conn = await asyncpg.connect(db_url)
    try:
        pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE done_at IS NULL")
        gateways = await conn.fetch("SELECT network_id, zgc_id, status FROM gateways")
        registered = await conn.fetch("SELECT port_id, network_id, body FROM gateway_ports")
    finally:
        await conn.close()
    assert pending == 0
    assert {g["network_id"]: g["zgc_id"] for g in gateways} == {
        vpc_id: vpc["zgc_id"] for vpc_id, vpc in zeta.vpcs.items()
    }
    assert {g["status"] for g in gateways} <= {"READY"}
    assert {r["port_id"] for r in registered} == set(zeta.ports)
    for row in registered:
        body, port = _json(row["body"]), zeta.ports[row["port_id"]]
        assert port["vpc_id"] == row["network_id"] == body["vpc_id"]
        assert port["mac_port"] == body["mac_port"]
        assert port["eps"] == body["ips_port"]
        assert zeta.hosts[body["ip_node"]]["host_id"] == port["host_id"]


def _json(text: str) -> dict[str, Any]:
    import orjson

    return dict(orjson.loads(text))


def _each_call_once(zeta: ZetaDouble) -> None:
    """No write reached Zeta twice: every one was answered 2xx (a repeated create, or a
    delete of something gone, is a 500 there), and no VPC or port was created twice
    without a delete between."""
    failed = [(c.method, c.path, c.status) for c in zeta.calls if c.method != "GET"]
    assert [f for f in failed if not 200 <= f[2] < 300] == []
    vpcs = Counter(c.body["vpc_id"] for c in zeta.calls if (c.method, c.path) == ("POST", "/vpcs"))
    assert set(vpcs.values()) <= {1}, vpcs
    created = Counter(p["port_id"] for c in zeta.calls if c.path == "/ports" for p in c.body)
    deleted = Counter(c.path.split("/")[2] for c in zeta.calls if c.method == "DELETE")
    for port_id, times in created.items():
        assert times - deleted[port_id] == (1 if port_id in zeta.ports else 0), port_id


async def test_two_processes_send_every_call_once(cluster: Cluster, zeta: ZetaDouble) -> None:
    """A second process joins while the first has a call out in every lane (Zeta holds
    them); then ports are created, moved and deleted through both at once, and a network
    goes. Every call reaches Zeta once, and Zeta ends up holding what the database says."""
    first = await cluster.start(**_settings(zeta))
    async with aiohttp.ClientSession() as session:
        client = Client(session)
        await _nodes(client, first.url)
        networks = [await client.network(first.url, i) for i in range(6)]
        await _settled(client, first.url, zeta, set(networks), set())
        zeta.hang(lambda method, path, body: (method, path) == ("POST", "/ports"))
        ports = await client.ports([first.url], networks, 2)
        await zeta.wait(lambda z: z.held == len(networks))
        # The lanes that hash to the newcomer move to it with their calls still out.
        urls = [first.url, (await cluster.start(**_settings(zeta))).url]
        ports += await client.ports(urls, networks, 3)
        await asyncio.sleep(0.5)  # the newcomer looks at its lanes while the calls are out
        zeta.release()
        ports += await client.ports(urls, networks, 3)
        # A host move is a DELETE and a POST at Zeta; deletes go through the other process.
        moves = [
            client.ok(
                urls[i % 2], "PUT", f"/v2.0/ports/{p}", {"port": {"binding:host_id": "host-3"}}
            )
            for i, p in enumerate(ports[:6])
        ]
        deletes = [
            client.ok(urls[i % 2], "DELETE", f"/v2.0/ports/{p}", status=204)
            for i, p in enumerate(ports[6:12])
        ]
        await asyncio.gather(*moves, *deletes)
        kept = set(ports[:6]) | set(ports[12:])
        # One network goes entirely: its ports, then the network (its VPC after them).
        gone = networks[-1]
        body = await client.ok(urls[1], "GET", f"/v2.0/ports?network_id={gone}")
        await asyncio.gather(
            *(
                client.ok(urls[i % 2], "DELETE", f"/v2.0/ports/{p['id']}", status=204)
                for i, p in enumerate(body["ports"])
            )
        )
        await client.ok(urls[0], "DELETE", f"/v2.0/networks/{gone}", status=204)
        kept -= {p["id"] for p in body["ports"]}
        for url in urls:
            await _settled(client, url, zeta, set(networks[:-1]), kept)
    _each_call_once(zeta)
    await _database_is_zeta(cluster.db_url, zeta)


async def test_two_change_consumers_queue_each_port_once(
    cluster: Cluster, zeta: ZetaDouble
) -> None:
    """Both processes' change consumers read the same port changes at once, each finding
    the ports not registered yet (writes to `gateway_ports` are held until both wait):
    each port is queued, and sent to Zeta, once."""
    urls = [p.url for p in await _setup(cluster, zeta, 2)]
    async with aiohttp.ClientSession() as session:
        client = Client(session)
        await _nodes(client, urls[0])
        networks = [await client.network(urls[i], i) for i in range(2)]
        await _settled(client, urls[0], zeta, set(networks), set())
        async with held(cluster.db_url, share(["gateway_ports"])) as conn:
            ports = await client.ports(urls, networks, 5)
            await _eventually(lambda: _at_least(lock_waiters(conn), 2), "both consumers wait")
        await _settled(client, urls[1], zeta, set(networks), set(ports))
    conn = await asyncpg.connect(cluster.db_url)
    try:
        queued = await conn.fetch(
            "SELECT target, count(*) FROM outbox WHERE kind = 'ZETA_PORT_CREATE' GROUP BY target"
        )
    finally:
        await conn.close()
    assert {r[0]: r[1] for r in queued} == dict.fromkeys(ports, 1)
    _each_call_once(zeta)
    await _database_is_zeta(cluster.db_url, zeta)


async def _at_least(count: Awaitable[int], wanted: int) -> bool:
    return await count >= wanted


async def _owners(db_url: str, procs: list[Process], networks: list[str]) -> dict[str, int]:
    """Return network id -> index of the process that works its lane (rendezvous hashing
    over the live members, as alcor computes it; a member id holds its process's pid)."""
    conn = await asyncpg.connect(db_url)
    try:
        members = [r[0] for r in await conn.fetch("SELECT member_id FROM cluster_members")]
    finally:
        await conn.close()
    assert len(members) == len(procs), members
    index = {int(m.rsplit("-", 2)[1]): m for m in members}
    by_member = {index[p.proc.pid]: i for i, p in enumerate(procs)}
    return {n: by_member[str(owner_of(n, members))] for n in networks}


async def test_a_process_killed_mid_work_leaves_its_lanes_to_the_other(
    cluster: Cluster, zeta: ZetaDouble
) -> None:
    """kill -9 of a process with a call out in every lane (Zeta holds them), more rows
    queued behind, and some lanes already moved to a second process that waits for those
    calls; Zeta performs them after the process died. The survivor takes every lane and
    finishes it, with no new change to wake it: no call twice, nothing lost."""
    victim = await cluster.start(**_settings(zeta))
    async with aiohttp.ClientSession() as session:
        client = Client(session)
        await _nodes(client, victim.url)
        networks = [await client.network(victim.url, i) for i in range(8)]
        await _settled(client, victim.url, zeta, set(networks), set())
        zeta.hang(lambda method, path, body: (method, path) == ("POST", "/ports"))
        ports = await client.ports([victim.url], networks, 6)
        await zeta.wait(lambda z: z.held == len(networks))
        survivor = await cluster.start(**_settings(zeta))
        owners = await _owners(cluster.db_url, [victim, survivor], networks)
        # Rows queued behind the held calls, through both.
        ports += await client.ports([victim.url, survivor.url], networks, 3)
        await asyncio.sleep(0.5)  # both consumers have queued them, both looked at the lanes
        calls = len(zeta.calls)
        cluster.kill(0)
        zeta.release()
        await zeta.wait(lambda z: len(z.calls) >= calls + len(networks))  # done; nobody heard
        await _settled(client, survivor.url, zeta, set(networks), set(ports))
        # Work after the death: more ports, and one port of a held batch of a lane the
        # dead process owned deleted (its create went out after the death: a DELETE follows).
        ports += await client.ports([survivor.url], networks, 2)
        theirs = {n for n, owner in owners.items() if owner == 0} or set(networks)
        held_port = next(
            c.body[0]["port_id"]
            for c in zeta.calls
            if c.path == "/ports" and c.body[0]["vpc_id"] in theirs
        )
        await client.ok(survivor.url, "DELETE", f"/v2.0/ports/{held_port}", status=204)
        await _settled(client, survivor.url, zeta, set(networks), set(ports) - {held_port})
    _each_call_once(zeta)
    await _database_is_zeta(cluster.db_url, zeta)
