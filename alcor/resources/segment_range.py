"""Network segment ranges (/v2.0/network-segment-ranges, network-segment-range): the
segmentation ids networks are given, per network type (and physical network for VLANs).

The default ranges mirror the configured ones ([network] tunnel_id_ranges, vlan_ranges) and
are read-only. An admin adds ranges: shared ones, or ranges of one project, whose new
networks take their ids there first and which other projects' networks do not use.
"""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.resources.base import TAG, Attr, Resource
from alcor.resources.types import Bool, Enum, Int, ListOf, Obj, String, Type, Uuid

RANGE_TYPES = ("vlan", "vxlan", "gre", "geneve")
ID_LIMIT = 2**32 - 1  # the widest type (GRE); each type's own bound is checked too


class NetworkSegmentRangeNotFound(errors.NotFound):
    """No network segment range with that id."""

    type_name = None
    message = "Network Segment Range {id} could not be found."


class NetworkSegmentRangeReferencedByProject(errors.InUse):
    """Networks hold ids that a change or delete of the range would strand."""

    message = "Network Segment Range {range_id} is referenced by one or more project networks."


class NetworkSegmentRangeDefaultReadOnly(errors.BadRequest):
    """The ranges from the configuration do not change through the API."""

    message = (
        "Network Segment Range {range_id} is a default segment range which could not be "
        "updated or deleted."
    )


class NetworkSegmentRangeOverlaps(errors.Conflict):
    """Ranges added for one type (and physical network) do not overlap."""

    message = "Network segment range overlaps with range(s) with id {range_id}"


class FreeIds(Type):
    """The free ids of a range (computed): each id, or "first-last" runs for a range wider
    than 65536 ids."""

    @property
    def is_scalar(self) -> bool:
        return False

    def schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {
                "oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+(-[0-9]+)?$"}]
            },
        }


NETWORK_SEGMENT_RANGE = Resource(
    name="network_segment_range",
    collection="network_segment_ranges",
    path="network-segment-ranges",
    table="network_segment_ranges",
    not_found=NetworkSegmentRangeNotFound,
    attrs=(
        Attr("id", Uuid(), create="Y"),
        # None for a shared range.
        Attr("project_id", String(255), nullable=True, default=None),
        Attr("name", String(255), default="", update="Y"),
        Attr("description", String(255), default="", update="Y"),
        Attr("default", Bool(), create="-"),
        Attr("shared", Bool(), default=True),
        Attr("network_type", Enum(RANGE_TYPES), create="R"),
        # "" for tunnel types.
        Attr("physical_network", String(64), default=""),
        Attr("minimum", Int(1, ID_LIMIT), create="R", update="Y"),
        Attr("maximum", Int(1, ID_LIMIT), create="R", update="Y"),
        # Computed: {segmentation id: project of the network holding it} ...
        Attr("used", Obj(), create="-", column=None, filter=False),
        Attr("available", FreeIds(), create="-", column=None, filter=False),
        Attr("tags", ListOf(TAG, collapse_duplicates=True, max_items=50), default=[], update="Y"),
        Attr("revision_number", Int(), create="-"),
        Attr("created_at", String(None), create="-"),
        Attr("updated_at", String(None), create="-"),
    ),
)
