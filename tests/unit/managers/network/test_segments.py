"""Segmentation id pools (on an in-memory database)."""

from __future__ import annotations

import pytest

from alcor import errors
from alcor.config import NetworkConfig
from alcor.managers.network import segments
from alcor.store import Store


@pytest.fixture
def db(memory_db: Store) -> Store:
    """An in-memory database with the real schema."""
    return memory_db


async def test_tunnel_ids_shared_by_vxlan_geneve_gre(db):
    """All tunnel types draw from one space; a taken id is TunnelIdInUse for any of them."""
    config = NetworkConfig(tunnel_id_ranges=((10, 12),))
    await segments.rebuild_pools(db, config)
    assert await segments.allocate(db, config, "a", "vxlan", None, None) == (None, 10)
    assert await segments.allocate(db, config, "b", "gre", None, None) == (None, 11)
    with pytest.raises(errors.TunnelIdInUse):
        await segments.allocate(db, config, "c", "geneve", None, 11)
    assert await segments.allocate(db, config, "c", "geneve", None, 500) == (None, 500)
    assert await segments.allocate(db, config, "d", "vxlan", None, None) == (None, 12)
    with pytest.raises(errors.NoNetworkAvailable):
        await segments.allocate(db, config, "e", "vxlan", None, None)
    await segments.release(db, config, "b")
    await segments.release(db, config, "c")  # outside the ranges: just forgotten
    assert await segments.allocate(db, config, "e", "vxlan", None, None) == (None, 11)


async def test_rebuild_keeps_ids_in_use_after_a_config_change(db):
    """Rebuilding pools from a new config never hands out an id a network holds."""
    config = NetworkConfig(tunnel_id_ranges=((1, 3),))
    await segments.rebuild_pools(db, config)
    for name in "abc":
        await segments.allocate(db, config, name, "vxlan", None, None)
    wider = NetworkConfig(tunnel_id_ranges=((1, 5),))
    await segments.rebuild_pools(db, wider)
    assert await segments.allocate(db, wider, "d", "vxlan", None, None) == (None, 4)


async def test_vlan_ids_are_per_physical_network(db):
    """VLAN ids are unique per physnet; unknown physnets are refused."""
    config = NetworkConfig(vlan_ranges={"physnet1": ((100, 101),), "physnet2": ((100, 100),)})
    await segments.rebuild_pools(db, config)
    assert await segments.allocate(db, config, "a", "vlan", None, None) == ("physnet1", 100)
    assert await segments.allocate(db, config, "b", "vlan", "physnet2", None) == ("physnet2", 100)
    with pytest.raises(errors.VlanIdInUse):
        await segments.allocate(db, config, "c", "vlan", "physnet1", 100)
    with pytest.raises(errors.InvalidInput):
        await segments.allocate(db, config, "c", "vlan", "physnet9", None)
    with pytest.raises(errors.InvalidInput):
        await segments.allocate(db, config, "c", "vlan", None, 4095)


async def test_flat_networks_one_per_physnet_without_id(db):
    """Flat networks take no id and at most one per allowed physnet."""
    config = NetworkConfig()
    await segments.rebuild_pools(db, config)
    assert await segments.allocate(db, config, "a", "flat", None, None) == ("physnet1", None)
    with pytest.raises(errors.FlatNetworkInUse):
        await segments.allocate(db, config, "b", "flat", "physnet1", None)
    with pytest.raises(errors.InvalidInput):
        await segments.allocate(db, config, "b", "flat", None, 5)
    await segments.release(db, config, "a")
    assert await segments.allocate(db, config, "b", "flat", None, None) == ("physnet1", None)
