"""Concurrent requests never duplicate an address or a MAC (singles, bulks, races)."""

from __future__ import annotations

import asyncio
from collections import Counter


def _addresses(ports):
    return [f["ip_address"] for p in ports for f in p["fixed_ips"]]


async def _all_ports(api):
    return (await api.get("/v2.0/ports"))["ports"]


async def test_fifty_parallel_creates_get_distinct_addresses_and_macs(api, net):
    """50 port creates at once on one subnet: 50 distinct IPs and MACs, all persisted."""
    replies = await asyncio.gather(
        *[
            api.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"], "name": f"p{i}"}})
            for i in range(50)
        ]
    )
    assert [r.status for r in replies] == [201] * 50
    ports = [r.body["port"] for r in replies]
    assert len(set(_addresses(ports))) == 50
    assert len({p["mac_address"] for p in ports}) == 50
    stored = await _all_ports(api)
    assert sorted(_addresses(stored)) == sorted(_addresses(ports))
    assert set(_addresses(ports)) == {f"10.0.0.{i}" for i in range(2, 52)}


async def test_bulk_and_single_creates_racing_never_collide(api, net):
    """Bulks of 10 and single creates racing on one subnet share the pool without overlap."""
    bulk = {"ports": [{"network_id": net["id"]} for _ in range(10)]}
    calls = [api.call("POST", "/v2.0/ports", bulk) for _ in range(4)]
    calls += [
        api.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}}) for _ in range(20)
    ]
    replies = await asyncio.gather(*calls)
    assert all(r.status == 201 for r in replies), [r.body for r in replies if r.status != 201]
    stored = await _all_ports(api)
    assert len(stored) == 60
    assert len(set(_addresses(stored))) == 60
    assert len({p["mac_address"] for p in stored}) == 60


async def test_racing_requests_for_one_address_have_exactly_one_winner(api, net):
    """Ten creates asking for the same IP: one 201, nine 409 IpAddressAlreadyAllocated."""
    replies = await asyncio.gather(
        *[
            api.call(
                "POST",
                "/v2.0/ports",
                {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.50"}]}},
            )
            for _ in range(10)
        ]
    )
    statuses = Counter(r.status for r in replies)
    assert statuses == {201: 1, 409: 9}
    assert {r.error for r in replies if r.status == 409} == {"IpAddressAlreadyAllocated"}


async def test_racing_requests_for_one_mac_have_exactly_one_winner(api, net):
    """Ten creates asking for the same MAC on a network: one wins, the rest 409."""
    replies = await asyncio.gather(
        *[
            api.call(
                "POST",
                "/v2.0/ports",
                {"port": {"network_id": net["id"], "mac_address": "fa:16:3e:aa:bb:cc"}},
            )
            for _ in range(10)
        ]
    )
    assert Counter(r.status for r in replies) == {201: 1, 409: 9}
    assert len(await _all_ports(api)) == 1


async def test_exhaustion_under_concurrency_gives_each_address_once(api):
    """More concurrent creates than addresses: every address once, the rest 409."""
    net = await api.network()
    await api.subnet(net["id"], "10.0.0.0/28")  # 13 usable addresses
    replies = await asyncio.gather(
        *[api.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}}) for _ in range(20)]
    )
    ok = [r.body["port"] for r in replies if r.status == 201]
    assert len(ok) == 13 and len(set(_addresses(ok))) == 13
    assert {r.error for r in replies if r.status != 201} == {"IpAddressGenerationFailure"}


async def test_concurrent_deletes_and_creates_keep_allocations_consistent(api, net):
    """Deleting and creating in parallel leaves no address held twice or leaked."""
    first = [await api.port(net["id"]) for _ in range(20)]
    deletes = [api.call("DELETE", f"/v2.0/ports/{p['id']}") for p in first[::2]]
    creates = [
        api.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}}) for _ in range(15)
    ]
    replies = await asyncio.gather(*deletes, *creates)
    assert all(r.status in (201, 204) for r in replies)
    stored = await _all_ports(api)
    assert len(stored) == 25
    assert len(set(_addresses(stored))) == 25


async def test_allocation_table_matches_the_ports(api, client, net):
    """After a concurrent burst, the IPAM rows are exactly the ports' fixed IPs."""
    await asyncio.gather(
        *[api.call("POST", "/v2.0/ports", {"port": {"network_id": net["id"]}}) for _ in range(30)]
    )
    rows = sorted(await client.alcor.store.fetch("SELECT ip, port_id FROM ip_allocations"))
    ports = await _all_ports(api)
    assert rows == sorted((f["ip_address"], p["id"]) for p in ports for f in p["fixed_ips"])
