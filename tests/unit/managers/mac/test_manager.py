"""MAC allocation through the real bus and store."""

from __future__ import annotations

import pytest

from alcor import errors
from alcor.config import PortConfig
from alcor.managers.mac.manager import MacManager
from alcor.managers.mac.messages import AllocateMac, ReleaseMac, ReleaseNetworkMacs


@pytest.fixture
async def mac(bus, store):
    """A started MAC manager with the default prefix."""
    manager = MacManager(bus, store, PortConfig())
    await manager.start()
    return manager


async def _allocate(bus, store, network, mac=None, owner="o"):
    async with store.transaction():
        return await bus.call(AllocateMac(network_id=network, owner=owner, mac=mac))


async def test_generated_macs_have_the_prefix_and_are_unique(bus, store, mac):
    """Generated MACs start with fa:16:3e and never repeat."""
    macs = [await _allocate(bus, store, "n1") for _ in range(200)]
    assert len(set(macs)) == 200
    assert all(m.startswith("fa:16:3e:") and len(m) == 17 for m in macs)


async def test_given_mac_is_unique_per_network_only(bus, store, mac):
    """A requested MAC in use on the network → MacAddressInUse; other networks may use it."""
    await _allocate(bus, store, "n1", "fa:16:3e:00:00:01")
    with pytest.raises(errors.MacAddressInUse):
        await _allocate(bus, store, "n1", "fa:16:3e:00:00:01")
    assert await _allocate(bus, store, "n2", "fa:16:3e:00:00:01") == "fa:16:3e:00:00:01"


async def test_release_makes_a_mac_available_again(bus, store, mac):
    """ReleaseMac and ReleaseNetworkMacs free MACs for reuse."""
    await _allocate(bus, store, "n1", "fa:16:3e:00:00:01")
    await _allocate(bus, store, "n1", "fa:16:3e:00:00:02")
    async with store.transaction():
        await bus.call(ReleaseMac(network_id="n1", mac="fa:16:3e:00:00:01", owner="o"))
    await _allocate(bus, store, "n1", "fa:16:3e:00:00:01")
    async with store.transaction():
        await bus.call(ReleaseNetworkMacs(network_id="n1"))
    await _allocate(bus, store, "n1", "fa:16:3e:00:00:02")


async def test_generation_gives_up_after_sixteen_collisions(bus, store):
    """A full one-octet space → MacAddressGenerationFailure (never an endless loop)."""
    manager = MacManager(bus, store, PortConfig(mac_prefix="fa:16:3e:00:00"))
    await manager.start()
    for i in range(256):
        await _allocate(bus, store, "n1", f"fa:16:3e:00:00:{i:02x}")
    with pytest.raises(errors.MacAddressGenerationFailure):
        await _allocate(bus, store, "n2")


async def test_release_by_another_owner_keeps_the_mac(bus, store, mac):
    """A borrowed MAC (an interface port using its subnet's gateway MAC) stays reserved."""
    await _allocate(bus, store, "n1", "fa:16:3e:00:00:05", owner="subnet:s1")
    async with store.transaction():
        await bus.call(ReleaseMac(network_id="n1", mac="fa:16:3e:00:00:05", owner="port-1"))
    with pytest.raises(errors.MacAddressInUse):
        await _allocate(bus, store, "n1", "fa:16:3e:00:00:05")
