"""IPAM through the real bus and store: pools, allocation order, release, EUI-64, IPv6 sizes."""

from __future__ import annotations

import pytest

from alcor import errors
from alcor.managers.ipam.manager import IpamManager, eui64
from alcor.managers.ipam.messages import (
    AllocatePortIps,
    DropSubnet,
    IpAllocated,
    ReleasePortIps,
    SetSubnetPools,
    SubnetAllocations,
    SubnetAvailability,
)

NET = "net-1"


def _subnet(sid, cidr, pools, version=4, mode=None, gateway=None):
    return {
        "id": sid,
        "network_id": NET,
        "cidr": cidr,
        "ip_version": version,
        "allocation_pools": [{"start": a, "end": b} for a, b in pools],
        "ipv6_address_mode": mode,
        "gateway_ip": gateway,
    }


@pytest.fixture
async def ipam(bus, store):
    """A started IPAM manager with two subnets: a small IPv4 one and a slaac /64."""
    manager = IpamManager(bus, store)
    await manager.start()
    v4 = _subnet("s4", "10.0.0.0/29", [("10.0.0.2", "10.0.0.6")], gateway="10.0.0.1")
    v6 = _subnet(
        "s6", "fd00:1::/64", [("fd00:1::2", "fd00:1::ffff:ffff:ffff:ffff")], 6, "slaac", "fd00:1::1"
    )
    async with store.transaction():
        await bus.call(SetSubnetPools(subnet=v4))
        await bus.call(SetSubnetPools(subnet=v6))
    return bus, store, [v4, v6]


async def _alloc(bus, store, subnets, port, requested=None, mac="fa:16:3e:00:00:01", current=()):
    async with store.transaction():
        return await bus.call(
            AllocatePortIps(
                port_id=port,
                network_id=NET,
                subnets=subnets,
                requested=requested,
                mac=mac,
                current=list(current),
            )
        )


def test_eui64_follows_the_spec_example():
    """fa:16:3e:00:00:01 in fd00:1::/64 is fd00:1::f816:3eff:fe00:1 (§5.3)."""
    assert eui64("fd00:1::/64", "fa:16:3e:00:00:01") == "fd00:1::f816:3eff:fe00:1"


async def test_automatic_allocation_is_lowest_first_plus_eui64(ipam):
    """Automatic requests take the lowest pool address and the EUI-64 of the MAC."""
    bus, store, subnets = ipam
    got = await _alloc(bus, store, subnets, "p1")
    assert got == [
        {"subnet_id": "s4", "ip_address": "10.0.0.2"},
        {"subnet_id": "s6", "ip_address": "fd00:1::f816:3eff:fe00:1"},
    ]
    second = await _alloc(bus, store, subnets, "p2", mac="fa:16:3e:00:00:02")
    assert second[0]["ip_address"] == "10.0.0.3"


async def test_exhaustion_raises_and_rolls_back_nothing_else(ipam):
    """When the pool is empty, IpAddressGenerationFailure; a rolled-back allocation is freed."""
    bus, store, subnets = ipam
    v4 = subnets[:1]
    for i in range(5):
        await _alloc(bus, store, v4, f"p{i}")
    with pytest.raises(errors.IpAddressGenerationFailure):
        await _alloc(bus, store, v4, "p9")
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await bus.call(ReleasePortIps(port_id="p0"))
            raise RuntimeError("caller fails after the release")
    with pytest.raises(errors.IpAddressGenerationFailure):
        await _alloc(bus, store, v4, "p9")  # the release was rolled back with its caller
    async with store.transaction():
        await bus.call(ReleasePortIps(port_id="p0"))
    assert (await _alloc(bus, store, v4, "p9"))[0]["ip_address"] == "10.0.0.2"


async def test_specific_address_inside_or_outside_pools(ipam):
    """A specific IP is taken from the pool or recorded outside it; twice → 409."""
    bus, store, subnets = ipam
    v4 = subnets[:1]
    got = await _alloc(bus, store, v4, "p1", requested=[{"ip_address": "10.0.0.4"}])
    assert got == [{"subnet_id": "s4", "ip_address": "10.0.0.4"}]
    await _alloc(bus, store, v4, "p2", requested=[{"ip_address": "10.0.0.1"}])  # the gateway
    with pytest.raises(errors.IpAddressAlreadyAllocated):
        await _alloc(bus, store, v4, "p3", requested=[{"ip_address": "10.0.0.4"}])
    with pytest.raises(errors.InvalidIpForSubnet):
        await _alloc(bus, store, v4, "p3", requested=[{"ip_address": "10.0.0.7"}])  # broadcast
    with pytest.raises(errors.InvalidIpForNetwork):
        await _alloc(bus, store, v4, "p3", requested=[{"ip_address": "10.9.0.1"}])
    assert [a["ip_address"] for a in (await _alloc(bus, store, v4, "p4"))] == ["10.0.0.2"]
    async with store.transaction():
        assert await bus.call(IpAllocated(subnet_id="s4", ip="10.0.0.1")) == "p2"
        await bus.call(ReleasePortIps(port_id="p2"))
        assert await bus.call(IpAllocated(subnet_id="s4", ip="10.0.0.1")) is None


async def test_update_keeps_listed_releases_missing(ipam):
    """With `current`, re-listed addresses are kept and the rest released for reuse."""
    bus, store, subnets = ipam
    v4 = subnets[:1]
    first = await _alloc(
        bus, store, v4, "p1", requested=[{"ip_address": "10.0.0.2"}, {"ip_address": "10.0.0.3"}]
    )
    kept = await _alloc(bus, store, v4, "p1", requested=[{"ip_address": "10.0.0.3"}], current=first)
    assert kept == [{"subnet_id": "s4", "ip_address": "10.0.0.3"}]
    assert (await _alloc(bus, store, v4, "p2"))[0]["ip_address"] == "10.0.0.2"


async def test_availability_is_exact_for_ipv6(ipam):
    """Totals of a /64 pool are exact integers beyond 2^53; usage counts allocations."""
    bus, store, subnets = ipam
    await _alloc(bus, store, subnets, "p1")
    async with store.transaction():
        total, used = await bus.call(SubnetAvailability(subnet_id="s6"))
        allocations = await bus.call(SubnetAllocations(subnet_id="s6"))
    assert total == 2**64 - 2 and used == 1
    assert allocations == [
        {"port_id": "p1", "ip_address": "fd00:1::f816:3eff:fe00:1", "auto": True}
    ]


async def test_drop_subnet_forgets_pools_and_allocations(ipam):
    """DropSubnet removes the subnet's free ranges, pools and allocations."""
    bus, store, subnets = ipam
    await _alloc(bus, store, subnets[:1], "p1")
    async with store.transaction():
        await bus.call(DropSubnet(subnet_id="s4"))
        assert await bus.call(SubnetAllocations(subnet_id="s4")) == []
        assert (
            await store.fetchval("SELECT COUNT(*) FROM free_ranges WHERE pool = 'subnet:s4'") == 0
        )
