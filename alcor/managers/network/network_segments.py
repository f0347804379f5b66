"""Network segments (segment, multi-provider, standard-attr-segment): admin-written L2
pieces of networks. Every network keeps at least one; the network row mirrors them (its
provider:* attributes are the first segment, `segments` lists them all when several).

A network created with one segment stores no segment row: its provider:* attributes are
that segment, and the row is written (with the network's timestamps) the first time the
segment API or a second segment needs it. Creating a network stays one row.
"""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.config import NetworkConfig
from alcor.managers.common import RequestContext, bump, new_id, new_record
from alcor.managers.crud import GetCommand, ListCommand
from alcor.managers.generic import AdminOnly
from alcor.managers.network import repo as network_repo
from alcor.managers.network import segments
from alcor.managers.network.messages import NetworkUpdated, segment_lock
from alcor.managers.network.segment_ranges import SegmentRanges
from alcor.managers.subnet.messages import SubnetsOfNetwork
from alcor.resources import repo
from alcor.resources.network import NETWORK
from alcor.resources.repo import Page, Where
from alcor.resources.segment import SEGMENT, SegmentInUse
from alcor.store import Store
from alcor.store.revisions import FIRST_REVISION

repo.register_extra_columns(SEGMENT, ("segment_index",))
PROVIDER_KEYS = {
    "network_type": "provider:network_type",
    "physical_network": "provider:physical_network",
    "segmentation_id": "provider:segmentation_id",
}


def segments_lock(network_id: str) -> str:
    """Return the lock name of a network's segment rows: held from the read of the rows a
    write depends on (none yet, the last index, the last segment) to the transaction's end."""
    return f"network_segments:{network_id}"


def as_provider(segment: dict[str, Any]) -> dict[str, Any]:
    """Return a segment as the provider:* attributes of a network."""
    return {key: segment[name] for name, key in PROVIDER_KEYS.items()}


def shaped(networks: Any, copy: bool = True) -> list[dict[str, Any]]:
    """Return networks as the API shows them (copies, unless the objects are the caller's
    own): `segments` only on a network with several, which then has no provider:*
    (multi-provider)."""
    out = [dict(n) for n in networks] if copy else list(networks)
    for network in out:
        if network.get("segments"):
            for key in PROVIDER_KEYS.values():
                network.pop(key, None)
        else:
            network.pop("segments", None)
    return out


class NetworkSegments(AdminOnly):
    """Create, read, update (name, description) and delete segments (admin only)."""

    resource = SEGMENT
    label = "Segment"

    def __init__(
        self, bus: Bus, store: Store, config: NetworkConfig, ranges: SegmentRanges
    ) -> None:
        super().__init__(bus, store)
        self._config = config
        self._ranges = ranges

    async def materialize(self, network_id: str | None = None) -> None:
        """Store the implicit first segment of the network (of every network when None)
        that has no segment row yet."""
        found = await network_repo.without_segments(self._store, network_id)
        if not found:
            return
        # Another process may be writing the same first segments (or deleting the network):
        # read again under the networks' locks, taken in one order.
        ids = sorted(network["id"] for network in found)
        for nid in ids:
            await self._store.lock(segments_lock(nid))
        locked = set(ids)
        for network in await network_repo.without_segments(self._store, network_id):
            if network["id"] not in locked:
                continue  # created since the first read: the next reader writes its segment
            segment = {
                "id": new_id(),
                "network_id": network["id"],
                "name": None,
                "description": "",
                "network_type": network["provider_network_type"],
                "physical_network": network["provider_physical_network"],
                "segmentation_id": network["provider_segmentation_id"],
                "segment_index": 0,
                "revision_number": FIRST_REVISION,
                "created_at": network["created_at"],
                "updated_at": network["created_at"],
            }
            await repo.insert(self._store, self.resource, segment)

    async def get(self, cmd: GetCommand) -> dict[str, Any]:
        if cmd.ctx.is_admin:
            async with self._store.transaction():
                await self.materialize()
        return await super().get(cmd)

    async def list_visible(self, cmd: ListCommand) -> Page:
        if cmd.ctx.is_admin:
            async with self._store.transaction():
                await self.materialize()
        return await super().list_visible(cmd)

    async def of_network(self, network_id: str) -> list[dict[str, Any]]:
        """Return a network's segments in order."""
        await self.materialize(network_id)
        return await self._stored(network_id)

    async def _stored(self, network_id: str) -> list[dict[str, Any]]:
        return await repo.find(
            self._store,
            self.resource,
            Where("t.network_id = ?", (network_id,)),
            order="t.segment_index",
        )

    # ---- admin only ------------------------------------------------------------------------

    # ---- create: take the id, mirror it on the network ----------------------------------------
    async def prepare_create(
        self, ctx: RequestContext, obj: dict[str, Any], given: dict[str, Any]
    ) -> None:
        obj.pop("project_id", None)  # segments belong to their network, not to a project
        await self._store.lock(segments_lock(obj["network_id"]))  # one new index at a time
        network = await repo.get(self._store, NETWORK, obj["network_id"])
        if network is None:
            raise errors.NetworkNotFound(id=obj["network_id"])
        await self.allocate(network, obj)
        existing = await self.of_network(network["id"])
        obj["segment_index"] = existing[-1]["segment_index"] + 1 if existing else 0

    def pool_of(self, segment: dict[str, Any]) -> str:
        """Return the id space a segment (provider values) takes its id from."""
        return segments.pool_of(
            segment["network_type"],
            segment["physical_network"] or self._config.default_physical_network,
        )

    async def allocate(self, network: dict[str, Any], segment: dict[str, Any]) -> None:
        """Validate a segment's provider values and take its id for `network`."""
        physnet, seg_id = await segments.allocate(
            self._store,
            self._config,
            network["id"],
            segment["network_type"],
            segment["physical_network"],
            segment["segmentation_id"],
            await self._ranges.choice(network["project_id"], self.pool_of(segment)),
        )
        segment["physical_network"], segment["segmentation_id"] = physnet, seg_id

    async def add(self, network: dict[str, Any], provider: list[dict[str, Any]]) -> None:
        """Store the segments of a new network with several (already allocated), in order;
        a single one stays implicit (materialize)."""
        if len(provider) < 2:
            return
        for index, values in enumerate(provider):
            given = {"network_id": network["id"], **values}
            segment = await new_record(self._store, self.resource, given, self.label)
            segment["segment_index"] = index
            await repo.insert(self._store, self.resource, segment)

    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._mirror(obj["network_id"])

    # ---- delete: not with subnets, not the last one -------------------------------------------
    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._store.lock(segments_lock(obj["network_id"]))  # not the last: one at a time
        await self._store.lock(segment_lock(obj["id"]))  # no subnet joins it meanwhile
        subnets = await self._bus.call(SubnetsOfNetwork(network_id=obj["network_id"]))
        if any(s.get("segment_id") == obj["id"] for s in subnets):
            raise SegmentInUse(
                segment_id=obj["id"], reason="The segment is still associated with subnet(s)"
            )
        if len(await self.of_network(obj["network_id"])) == 1:
            raise SegmentInUse(segment_id=obj["id"], reason="It is the network's only segment")
        await segments.release_one(
            self._store,
            self._config,
            segments.pool_of(obj["network_type"], obj["physical_network"]),
            obj["segmentation_id"],
            await self._ranges.added_bounds(),
        )

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._mirror(obj["network_id"])

    async def remove_of_network(self, network_id: str) -> None:
        """Forget the segments of a network being deleted (its ids are released with it)."""
        await self._store.lock(segments_lock(network_id))  # none is materialized meanwhile
        for segment in await self._stored(network_id):
            await self.remove(segment)

    async def _mirror(self, network_id: str) -> None:
        """Write the network's provider:* (first segment) and `segments` (when several)."""
        network = await repo.get(self._store, NETWORK, network_id)
        if network is None:
            return
        ordered = await self.of_network(network_id)
        changes = {
            **as_provider(ordered[0]),
            "segments": [as_provider(s) for s in ordered] if len(ordered) > 1 else None,
        }
        diff = {k: v for k, v in changes.items() if network.get(k) != v}
        if diff:
            await repo.update(self._store, NETWORK, network_id, bump(network, diff))
            self._bus.publish(NetworkUpdated(network=network, changed=frozenset(diff)))
