"""Segmentation ids: allocated per network type from configured ranges (synchronous)."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from alcor import errors
from alcor.config import NetworkConfig
from alcor.managers.network import repo
from alcor.store import ranges

TUNNEL_TYPES = ("vxlan", "geneve", "gre")
TUNNEL_MAX = 16777215


def pool_of(network_type: str, physnet: str | None) -> str:
    """Return the id space of a type: tunnels share one; VLANs are per physical network."""
    if network_type in TUNNEL_TYPES:
        return "segment:tunnel"
    return f"segment:{network_type}:{physnet}"


def rebuild_pools(db: sqlite_utils.Database, config: NetworkConfig) -> None:
    """Rebuild the free ranges from config minus what networks hold (config may change)."""
    repo.clear_segment_pools(db)
    tunnel = "segment:tunnel"
    ranges.reset(db, tunnel, list(config.tunnel_id_ranges), repo.taken(db, tunnel))
    for physnet, vlan_ranges in config.vlan_ranges.items():
        pool = pool_of("vlan", physnet)
        ranges.reset(db, pool, list(vlan_ranges), repo.taken(db, pool))


def allocate(
    db: sqlite_utils.Database,
    config: NetworkConfig,
    network_id: str,
    network_type: str,
    physnet: str | None,
    seg_id: int | None,
) -> tuple[str | None, int | None]:
    """Validate provider attributes, take the segment, return (physnet, segmentation id)."""
    if network_type in TUNNEL_TYPES:
        if physnet is not None:
            raise errors.InvalidInput(
                error_message=f"provider:physical_network specified for {network_type} network"
            )
        return None, _take(
            db,
            "segment:tunnel",
            network_id,
            seg_id,
            1,
            TUNNEL_MAX,
            lambda: errors.TunnelIdInUse(tunnel_id=seg_id),
        )
    physnet = physnet or config.default_physical_network
    if network_type == "vlan":
        if physnet not in config.vlan_ranges:
            raise errors.InvalidInput(error_message=f"Unknown provider:physical_network {physnet}")
        return physnet, _take(
            db,
            pool_of("vlan", physnet),
            network_id,
            seg_id,
            1,
            4094,
            lambda: errors.VlanIdInUse(vlan_id=seg_id, physical_network=physnet),
        )
    # flat: no id, one network per physical network
    if seg_id is not None:
        raise errors.InvalidInput(
            error_message="provider:segmentation_id specified for flat network"
        )
    if physnet not in config.flat_networks:
        raise errors.InvalidInput(error_message=f"Unknown provider:physical_network {physnet}")
    pool = pool_of("flat", physnet)
    if repo.in_use(db, pool):
        raise errors.FlatNetworkInUse(physical_network=physnet)
    repo.insert(db, pool, 0, network_id)
    return physnet, None


def _take(
    db: sqlite_utils.Database,
    pool: str,
    network_id: str,
    seg_id: int | None,
    low: int,
    high: int,
    in_use: Callable[[], errors.AlcorError],
) -> int:
    if seg_id is None:
        value = ranges.take_lowest(db, pool)
        if value is None:
            raise errors.NoNetworkAvailable()
    else:
        if not low <= seg_id <= high:
            raise errors.InvalidInput(
                error_message=f"provider:segmentation_id {seg_id} out of range ({low} through {high})"
            )
        if repo.in_use(db, pool, seg_id):
            raise in_use()
        ranges.take(db, pool, seg_id)  # an id outside the configured ranges is simply recorded
        value = seg_id
    repo.insert(db, pool, value, network_id)
    return value


def release(db: sqlite_utils.Database, config: NetworkConfig, network_id: str) -> None:
    """Return the network's segment to its pool (if inside the configured ranges)."""
    for pool, seg_id in repo.delete_of_network(db, network_id):
        if _configured(config, pool, seg_id):
            ranges.give_back(db, pool, seg_id)


def _configured(config: NetworkConfig, pool: str, seg_id: int) -> bool:
    if pool == "segment:tunnel":
        bounds = config.tunnel_id_ranges
    elif pool.startswith("segment:vlan:"):
        bounds = config.vlan_ranges.get(pool.split(":", 2)[2], ())
    else:
        return False
    return any(lo <= seg_id <= hi for lo, hi in bounds)
