"""Network segment ranges (network-segment-range): admin-written id ranges per network
type, which decide where a project's new networks take their segmentation ids.

The tunnel types share one id space in alcor (segments.pool_of), so a tunnel range is a
range of that space whatever its type; VLAN ranges are per physical network.
"""

from __future__ import annotations

import uuid
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import NetworkConfig
from alcor.managers.common import RequestContext, new_record
from alcor.managers.generic import AdminOnly
from alcor.managers.network import repo as network_repo
from alcor.managers.network import segments
from alcor.resources import repo
from alcor.resources.repo import Where
from alcor.resources.segment_range import (
    NETWORK_SEGMENT_RANGE,
    NetworkSegmentRangeDefaultReadOnly,
    NetworkSegmentRangeOverlaps,
    NetworkSegmentRangeReferencedByProject,
)
from alcor.store import Store, ranges
from alcor.store.cache import OneWriterCache

# Default ranges get stable ids: the same configuration gives the same ids.
_DEFAULT_NAMESPACE = uuid.UUID("5b3f2e6a-4c1d-4e8a-9f7b-2d6c8a1e0b93")
_TYPE_MAX = {"vlan": 4094, "vxlan": segments.TUNNEL_MAX, "geneve": segments.TUNNEL_MAX}
_WIDE = 65536  # wider ranges list their free ids as "first-last" runs


def pool_of(rng: dict[str, Any]) -> str:
    """Return the id space of a range."""
    return segments.pool_of(rng["network_type"], rng["physical_network"] or None)


class SegmentRanges(AdminOnly):
    """Create, read, update and delete network segment ranges (admin only)."""

    resource = NETWORK_SEGMENT_RANGE
    label = "Network segment range"

    def __init__(self, bus: Bus, store: Store, config: NetworkConfig) -> None:
        super().__init__(bus, store)
        self._config = config
        self._added = OneWriterCache(store, self._load_added)  # the non-default ranges

    # ---- what allocation needs -------------------------------------------------------------
    async def added(self) -> list[dict[str, Any]]:
        """Return the ranges an admin added (cached until one changes, with one writer)."""
        return await self._added.get()

    async def _load_added(self) -> list[dict[str, Any]]:
        return await repo.find(
            self._store, self.resource, Where('t."default" = 0', ()), order="t.minimum"
        )

    async def added_bounds(self) -> dict[str, list[segments.Bounds]]:
        """Return the added ranges of each pool (their ids are allocatable too)."""
        out: dict[str, list[segments.Bounds]] = {}
        for rng in await self.added():
            out.setdefault(pool_of(rng), []).append((rng["minimum"], rng["maximum"]))
        return out

    async def choice(self, project_id: str, pool: str) -> segments.RangeChoice | None:
        """Return where `project_id`'s new network of `pool` takes its id; None when no
        project has ranges there (the plain lowest free id)."""
        private = [r for r in await self.added() if not r["shared"] and pool_of(r) == pool]
        if not private:
            return None
        return segments.RangeChoice(
            own=[(r["minimum"], r["maximum"]) for r in private if r["project_id"] == project_id],
            excluded=[
                (r["minimum"], r["maximum"]) for r in private if r["project_id"] != project_id
            ],
        )

    async def sync_defaults(self) -> None:
        """Make the default ranges mirror the configuration (at start)."""
        db = self._store
        wanted = {}
        for network_type in segments.TUNNEL_TYPES:
            for lo, hi in self._config.tunnel_id_ranges:
                wanted[self._default_id(network_type, "", lo, hi)] = (network_type, "", lo, hi)
        for physnet, bounds in self._config.vlan_ranges.items():
            for lo, hi in bounds:
                wanted[self._default_id("vlan", physnet, lo, hi)] = ("vlan", physnet, lo, hi)
        for old in await repo.find(db, self.resource, Where('t."default" = 1', ())):
            if old["id"] not in wanted:
                await repo.delete(db, self.resource, old["id"])
        for range_id, (network_type, physnet, lo, hi) in wanted.items():
            if await repo.get(db, self.resource, range_id) is None:
                given = {
                    "id": range_id,
                    "network_type": network_type,
                    "physical_network": physnet,
                    "minimum": lo,
                    "maximum": hi,
                }
                obj = {
                    **await self._new(given),
                    "default": True,
                    "shared": True,
                    "project_id": None,
                }
                await repo.insert(db, self.resource, obj)

    @staticmethod
    def _default_id(network_type: str, physnet: str, lo: int, hi: int) -> str:
        return str(uuid.uuid5(_DEFAULT_NAMESPACE, f"{network_type}:{physnet}:{lo}:{hi}"))

    async def _new(self, given: dict[str, Any]) -> dict[str, Any]:
        return await new_record(self._store, self.resource, given, self.label)

    # ---- admin only ------------------------------------------------------------------------

    # ---- checks --------------------------------------------------------------------------------
    async def prepare_create(
        self, ctx: RequestContext, obj: dict[str, Any], given: dict[str, Any]
    ) -> None:
        obj["default"] = False
        if obj["shared"]:
            obj["project_id"] = None
        elif not obj["project_id"]:
            raise errors.BadRequest(
                resource=self.resource.name, msg="A range that is not shared needs a project_id"
            )
        if obj["network_type"] == "vlan":
            if not obj["physical_network"]:
                raise errors.BadRequest(
                    resource=self.resource.name,
                    msg="Network type vlan requires 'physical_network' to be specified while "
                    "creating new range",
                )
            if obj["physical_network"] not in self._config.vlan_ranges:
                raise errors.InvalidInput(
                    error_message=f"Unknown physical_network {obj['physical_network']}"
                )
        else:
            obj["physical_network"] = ""
        await self._lock(obj)
        await self._check(obj)

    async def prepare_update(
        self, ctx: RequestContext, obj: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        if obj["default"]:
            raise NetworkSegmentRangeDefaultReadOnly(range_id=obj["id"])
        await self._lock(obj)
        new = {**obj, **diff}
        held = [seg for seg, _ in await self._holders(obj)]
        if held and (new["minimum"] > held[0] or new["maximum"] < held[-1]):
            raise NetworkSegmentRangeReferencedByProject(range_id=obj["id"])
        await self._check(new)

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        if obj["default"]:
            raise NetworkSegmentRangeDefaultReadOnly(range_id=obj["id"])
        await self._lock(obj)
        if await self._holders(obj):
            raise NetworkSegmentRangeReferencedByProject(range_id=obj["id"])

    async def _lock(self, rng: dict[str, Any]) -> None:
        """Keep other processes' writes of ranges of the same id space (and their rebuilds
        of its free ids) out until this transaction ends: the overlap check reads them; and
        their networks' takes and give-backs of its ids, which the rebuild (_resync) reads."""
        await self._store.lock(segments.RANGES_LOCK, shared=True)
        await self._store.lock(segments.pool_lock(pool_of(rng)))

    async def _check(self, rng: dict[str, Any]) -> None:
        """Bounds within the type's ids, minimum <= maximum, no overlap in its id space."""
        top = _TYPE_MAX.get(rng["network_type"], 2**32 - 1)
        if not 1 <= rng["minimum"] <= rng["maximum"] <= top:
            raise errors.InvalidInput(
                error_message=f"{rng['minimum']}:{rng['maximum']} is not a valid "
                f"{rng['network_type']} range (1 through {top}, minimum <= maximum)"
            )
        overlapping = [
            other["id"]
            for other in await self.added()
            if other["id"] != rng["id"]
            and pool_of(other) == pool_of(rng)
            and rng["minimum"] <= other["maximum"]
            and rng["maximum"] >= other["minimum"]
        ]
        if overlapping:
            raise NetworkSegmentRangeOverlaps(range_id=", ".join(overlapping))

    # ---- after a change: the pool holds the added ranges' ids too -----------------------------
    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._resync(obj)

    async def after_update(
        self, ctx: RequestContext, obj: dict[str, Any], before: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        await self._resync(obj)

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._resync(obj)

    async def _resync(self, rng: dict[str, Any]) -> None:
        self._added.clear()
        pool = pool_of(rng)
        configured = segments.configured_pools(self._config).get(pool, [])
        await segments.rebuild_pool(
            self._store, pool, configured + (await self.added_bounds()).get(pool, [])
        )

    # ---- computed attributes -----------------------------------------------------------------
    async def _holders(self, rng: dict[str, Any]) -> list[tuple[int, str]]:
        return await network_repo.holders_in(
            self._store, pool_of(rng), rng["minimum"], rng["maximum"]
        )

    async def decorate(self, objs: Any) -> list[dict[str, Any]]:
        """Add `used` ({id: project}) and `available` (the free ids) to each range."""
        out = list(objs)
        for rng in out:
            rng["used"] = {str(seg): project for seg, project in await self._holders(rng)}
            runs = await ranges.free_runs(self._store, pool_of(rng), rng["minimum"], rng["maximum"])
            if rng["maximum"] - rng["minimum"] < _WIDE:
                rng["available"] = [v for lo, hi in runs for v in range(lo, hi + 1)]
            else:
                rng["available"] = [f"{lo}-{hi}" if lo != hi else str(lo) for lo, hi in runs]
        return out
