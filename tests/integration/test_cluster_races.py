"""Real `alcor serve` processes racing on one PostgreSQL database: nothing is allocated
twice, no update is lost, If-Match is a compare-and-swap, quotas hold."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from typing import Any

import aiohttp
import pytest

from tests.cluster import Cluster, call

pytestmark = [pytest.mark.postgresql, pytest.mark.slow]
ADMIN = {"X-Roles": "admin", "X-Project-Id": "p1"}


async def _spread(
    session: aiohttp.ClientSession,
    urls: list[str],
    requests: list[tuple[str, str, Any, dict[str, str] | None]],
) -> list[tuple[int, Any]]:
    """Send the requests concurrently, round-robin over the processes."""
    turns = itertools.cycle(urls)
    return await asyncio.gather(
        *(call(session, next(turns), m, p, b, h or ADMIN) for m, p, b, h in requests)
    )


async def _network(session: aiohttp.ClientSession, url: str, cidr: str) -> dict[str, Any]:
    status, body = await call(session, url, "POST", "/v2.0/networks", {"network": {}}, ADMIN)
    assert status == 201, body
    net = body["network"]
    subnet = {"network_id": net["id"], "cidr": cidr, "ip_version": 4}
    status, body = await call(session, url, "POST", "/v2.0/subnets", {"subnet": subnet}, ADMIN)
    assert status == 201, body
    return net


async def _ports(session: aiohttp.ClientSession, url: str, net_id: str) -> list[dict[str, Any]]:
    status, body = await call(session, url, "GET", f"/v2.0/ports?network_id={net_id}", None, ADMIN)
    assert status == 200
    return list(body["ports"])


async def test_concurrent_creates_on_three_processes_never_share_an_address(
    cluster: Cluster,
) -> None:
    """Ports created at once through three processes get distinct IPs and MACs, the
    allocation rows are exactly the ports' addresses, and a small pool runs out exactly."""
    urls = [(await cluster.start()).url for _ in range(3)]
    async with aiohttp.ClientSession() as session:
        net = await _network(session, urls[0], "10.1.0.0/24")
        body = {"port": {"network_id": net["id"]}}
        results = await _spread(session, urls, [("POST", "/v2.0/ports", body, None)] * 90)
        assert Counter(status for status, _ in results) == {201: 90}, [
            b for s, b in results if s != 201
        ][:3]
        bulk = {"ports": [{"network_id": net["id"]} for _ in range(20)]}
        results = await _spread(session, urls, [("POST", "/v2.0/ports", bulk, None)] * 3)
        assert [status for status, _ in results] == [201, 201, 201]
        ports = await _ports(session, urls[1], net["id"])
        assert len(ports) == 150
        ips = [f["ip_address"] for p in ports for f in p["fixed_ips"]]
        assert len(ips) == 150 and len(set(ips)) == 150
        assert len({p["mac_address"] for p in ports}) == 150

        # A /28 holds 13 addresses for ports (network, gateway and broadcast excluded):
        # 40 creates at once through three processes get exactly 13 of them.
        small = await _network(session, urls[2], "10.2.0.0/28")
        body = {"port": {"network_id": small["id"]}}
        results = await _spread(session, urls, [("POST", "/v2.0/ports", body, None)] * 40)
        statuses = Counter(status for status, _ in results)
        assert statuses == {201: 13, 409: 27}, statuses
        refused = {b["NeutronError"]["type"] for s, b in results if s == 409}
        assert refused == {"IpAddressGenerationFailure"}
        small_ips = [
            f["ip_address"]
            for p in await _ports(session, urls[0], small["id"])
            for f in p["fixed_ips"]
        ]
        assert len(small_ips) == len(set(small_ips)) == 13


async def test_if_match_and_updates_are_compare_and_swap_across_processes(
    cluster: Cluster,
) -> None:
    """Of 12 updates carrying the same If-Match only one applies (the rest 412), and 24
    plain updates at once through three processes each add exactly one revision."""
    urls = [(await cluster.start()).url for _ in range(3)]
    async with aiohttp.ClientSession() as session:
        status, body = await call(
            session, urls[0], "POST", "/v2.0/networks", {"network": {}}, ADMIN
        )
        assert status == 201
        net = body["network"]
        path = f"/v2.0/networks/{net['id']}"
        guarded = {**ADMIN, "If-Match": f"revision_number={net['revision_number']}"}
        results = await _spread(
            session,
            urls,
            [("PUT", path, {"network": {"name": f"n{i}"}}, guarded) for i in range(12)],
        )
        assert Counter(status for status, _ in results) == {200: 1, 412: 11}
        _, body = await call(session, urls[1], "GET", path, None, ADMIN)
        revision = body["network"]["revision_number"]
        assert revision == net["revision_number"] + 1
        results = await _spread(
            session,
            urls,
            [("PUT", path, {"network": {"description": f"d{i}"}}, None) for i in range(24)],
        )
        assert Counter(status for status, _ in results) == {200: 24}
        _, body = await call(session, urls[2], "GET", path, None, ADMIN)
        assert body["network"]["revision_number"] == revision + 24


async def test_segments_and_quotas_hold_across_processes(cluster: Cluster) -> None:
    """One explicit VXLAN id goes to exactly one network, automatic ids never repeat, and
    a port quota of 10 admits exactly 10 of 30 concurrent creates."""
    urls = [
        (await cluster.start(ALCOR__QUOTAS__PORT="10", ALCOR__QUOTAS__NETWORK="-1")).url
        for _ in range(3)
    ]
    async with aiohttp.ClientSession() as session:
        fixed = {"network": {"provider:network_type": "vxlan", "provider:segmentation_id": 4242}}
        results = await _spread(session, urls, [("POST", "/v2.0/networks", fixed, None)] * 9)
        statuses = Counter(status for status, _ in results)
        assert statuses == {201: 1, 409: 8}, statuses
        auto = {"network": {"provider:network_type": "vxlan"}}
        results = await _spread(session, urls, [("POST", "/v2.0/networks", auto, None)] * 30)
        assert Counter(status for status, _ in results) == {201: 30}
        ids = [b["network"]["provider:segmentation_id"] for _, b in results]
        assert len(set(ids)) == 30 and 4242 not in ids

        net = await _network(session, urls[0], "10.3.0.0/24")
        tenant = {"X-Project-Id": "quota-project", "X-Roles": "member"}
        status, _ = await call(
            session,
            urls[0],
            "PUT",
            f"/v2.0/networks/{net['id']}",
            {"network": {"shared": True}},
            ADMIN,
        )
        assert status == 200
        body = {"port": {"network_id": net["id"]}}
        results = await _spread(session, urls, [("POST", "/v2.0/ports", body, tenant)] * 30)
        statuses = Counter(status for status, _ in results)
        assert statuses == {201: 10, 409: 20}, statuses
        assert {b["NeutronError"]["type"] for s, b in results if s == 409} == {"OverQuota"}
