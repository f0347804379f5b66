"""Segmentation ids: allocated per network type from configured ranges (synchronous)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from alcor import errors
from alcor.config import NetworkConfig
from alcor.managers.network import repo
from alcor.store import RetryRequest, Store, ranges

TUNNEL_TYPES = ("vxlan", "geneve", "gre")
TUNNEL_MAX = 16777215
# Held by a process writing the default ranges and rebuilding every pool at start; range
# writes hold it shared, and each id space's own lock (pool_lock) alone.
RANGES_LOCK = "network-segment-ranges"


def pool_lock(pool: str) -> str:
    """Return the lock name of one id space's free ids: held shared while a network takes
    an id of it or gives one back, exclusively while its ranges are written and its free
    ids rebuilt from the ids networks hold (a range write, a starting process)."""
    return f"{RANGES_LOCK}:{pool}"


def pool_of(network_type: str, physnet: str | None) -> str:
    """Return the id space of a type: tunnels share one; VLANs are per physical network."""
    if network_type in TUNNEL_TYPES:
        return "segment:tunnel"
    return f"segment:{network_type}:{physnet}"


Bounds = tuple[int, int]


@dataclass(frozen=True)
class RangeChoice:
    """Where a project's new network takes its id (network-segment-range): its own ranges
    first, then anywhere in the pool outside other projects' ranges."""

    own: Sequence[Bounds] = ()
    excluded: Sequence[Bounds] = ()


def configured_pools(config: NetworkConfig) -> dict[str, list[Bounds]]:
    """Return the configured id ranges of each pool."""
    pools = {"segment:tunnel": list(config.tunnel_id_ranges)}
    for physnet, vlan_ranges in config.vlan_ranges.items():
        pools[pool_of("vlan", physnet)] = list(vlan_ranges)
    return pools


async def rebuild_pools(
    db: Store,
    config: NetworkConfig,
    added: Mapping[str, list[Bounds]] | None = None,
) -> None:
    """Rebuild the free ranges from config (plus `added` ranges) minus what networks hold
    (config and ranges may change)."""
    pools = configured_pools(config)
    for pool in sorted(pools):  # no id is taken or given back meanwhile (_take, release)
        await db.lock(pool_lock(pool))
    await repo.clear_segment_pools(db)
    for pool, bounds in pools.items():
        await rebuild_pool(db, pool, bounds + (added or {}).get(pool, []))


async def rebuild_pool(db: Store, pool: str, bounds: list[Bounds]) -> None:
    """Make `pool` hold the ids of `bounds` (overlaps allowed) that no network holds."""
    merged: list[list[int]] = []
    for lo, hi in sorted(bounds):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    await ranges.reset(db, pool, [(lo, hi) for lo, hi in merged], await repo.taken(db, pool))


async def allocate(
    db: Store,
    config: NetworkConfig,
    network_id: str,
    network_type: str,
    physnet: str | None,
    seg_id: int | None,
    choice: RangeChoice | None = None,
) -> tuple[str | None, int | None]:
    """Validate provider attributes, take the segment, return (physnet, segmentation id);
    an automatic id follows `choice` (the project's segment ranges) when given."""
    if network_type in TUNNEL_TYPES:
        if physnet is not None:
            raise errors.InvalidInput(
                error_message=f"provider:physical_network specified for {network_type} network"
            )
        return None, await _take(
            db,
            "segment:tunnel",
            network_id,
            seg_id,
            1,
            TUNNEL_MAX,
            lambda: errors.TunnelIdInUse(tunnel_id=seg_id),
            choice,
        )
    physnet = physnet or config.default_physical_network
    if network_type == "vlan":
        if physnet not in config.vlan_ranges:
            raise errors.InvalidInput(error_message=f"Unknown provider:physical_network {physnet}")
        return physnet, await _take(
            db,
            pool_of("vlan", physnet),
            network_id,
            seg_id,
            1,
            4094,
            lambda: errors.VlanIdInUse(vlan_id=seg_id, physical_network=physnet),
            choice,
        )
    # flat: no id, one network per physical network
    if seg_id is not None:
        raise errors.InvalidInput(
            error_message="provider:segmentation_id specified for flat network"
        )
    if physnet not in config.flat_networks:
        raise errors.InvalidInput(error_message=f"Unknown provider:physical_network {physnet}")
    pool = pool_of("flat", physnet)
    if await repo.in_use(db, pool):
        raise errors.FlatNetworkInUse(physical_network=physnet)
    await repo.insert(db, pool, 0, network_id)
    return physnet, None


async def _take(
    db: Store,
    pool: str,
    network_id: str,
    seg_id: int | None,
    low: int,
    high: int,
    in_use: Callable[[], errors.AlcorError],
    choice: RangeChoice | None = None,
) -> int:
    # A rebuild of the pool's free ids (which reads the ids networks hold) waits until this
    # transaction ends, or this take until the rebuild's does.
    await db.lock(pool_lock(pool), shared=True)
    if seg_id is None:
        value = await _lowest(db, pool, choice) if choice else await ranges.take_lowest(db, pool)
        if value is None:
            raise errors.NoNetworkAvailable()
    else:
        if not low <= seg_id <= high:
            raise errors.InvalidInput(
                error_message=f"provider:segmentation_id {seg_id} out of range ({low} through {high})"
            )
        if await repo.in_use(db, pool, seg_id):
            raise in_use()
        # An id outside the configured ranges is simply recorded.
        await ranges.take(db, pool, seg_id)
        value = seg_id
    await repo.insert(db, pool, value, network_id)
    return value


async def _lowest(db: Store, pool: str, choice: RangeChoice) -> int | None:
    """Take the lowest free id in the project's own ranges, else the lowest outside the
    ranges of other projects."""
    for lo, hi in sorted(choice.own):
        value = await ranges.lowest_free(db, pool, lo, hi)
        if value is not None:
            return await _take_found(db, pool, value)
    value = await ranges.lowest_free(db, pool, 0)
    while value is not None:
        block = next(((lo, hi) for lo, hi in choice.excluded if lo <= value <= hi), None)
        if block is None:
            return await _take_found(db, pool, value)
        value = await ranges.lowest_free(db, pool, block[1] + 1)
    return None


async def _take_found(db: Store, pool: str, value: int) -> int:
    """Take a value just found free; another process may have taken it meanwhile (the
    request is then run again)."""
    if not await ranges.take(db, pool, value):
        raise RetryRequest(f"segment id {value} of {pool} was taken meanwhile")
    return value


async def release(
    db: Store,
    config: NetworkConfig,
    network_id: str,
    added: Mapping[str, list[Bounds]] | None = None,
) -> None:
    """Return the network's segment to its pool (if inside the configured or added ranges)."""
    pools = configured_pools(config)
    held = await repo.delete_of_network(db, network_id)
    for pool, seg_id in sorted(held):
        bounds = pools.get(pool, []) + (added or {}).get(pool, [])
        if any(lo <= seg_id <= hi for lo, hi in bounds):
            await _give_back(db, pool, seg_id)


async def _give_back(db: Store, pool: str, seg_id: int) -> None:
    """Return an id to its pool once no rebuild of the pool runs (_take); the id's holding
    row is already deleted (uncommitted), so a rebuild after this counts it held."""
    await db.lock(pool_lock(pool), shared=True)
    await ranges.give_back(db, pool, seg_id)


async def release_one(
    db: Store,
    config: NetworkConfig,
    pool: str,
    seg_id: int | None,
    added: Mapping[str, list[Bounds]] | None = None,
) -> None:
    """Give one segment's id back (a flat segment frees its physical network)."""
    value = 0 if seg_id is None else seg_id
    await repo.delete_holding(db, pool, value)
    bounds = configured_pools(config).get(pool, []) + (added or {}).get(pool, [])
    if any(lo <= value <= hi for lo, hi in bounds):
        await _give_back(db, pool, value)
