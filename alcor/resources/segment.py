"""Network segments (/v2.0/segments; segment, multi-provider, standard-attr-segment): the
L2 pieces of a network, each with its network type, physical network and segmentation id.

Every network has at least one. The network's provider:* attributes are its first segment
(the one the southbound reads today); a network with several shows them as `segments`.
"""

from __future__ import annotations

from alcor import errors
from alcor.resources.base import Attr, Resource
from alcor.resources.network import NETWORK_TYPES
from alcor.resources.types import Enum, Int, String, Uuid


class SegmentNotFound(errors.NotFound):
    """No segment with that id."""

    type_name = None
    message = "Segment {id} could not be found."


class SegmentInUse(errors.InUse):
    """A segment with subnets, or a network's last one, stays."""

    message = "Segment '{segment_id}' cannot be deleted: {reason}."


class NetworkIdsDontMatch(errors.BadRequest):
    """A subnet's segment is on another network."""

    message = (
        "The subnet's network id, '{subnet_network}', doesn't match the network_id of "
        "segment '{segment_id}'"
    )


class SubnetsNotAllAssociatedWithSegments(errors.BadRequest):
    """A network's subnets are all on segments or none is."""

    message = (
        "All of the subnets on network '{network_id}' must either all be associated with "
        "segments or all not associated with any segment."
    )


SEGMENT = Resource(
    name="segment",
    collection="segments",
    path="segments",
    table="network_segments",
    not_found=SegmentNotFound,
    has_tags=False,
    attrs=(
        Attr("id", Uuid(), create="Y"),
        Attr("network_id", Uuid(), create="R"),
        Attr("name", String(255), nullable=True, default=None, update="Y"),
        Attr("description", String(255), default="", update="Y"),
        Attr("network_type", Enum(NETWORK_TYPES), create="R"),
        Attr("physical_network", String(64), nullable=True, default=None),
        Attr("segmentation_id", Int(0, 2**32 - 1), nullable=True, default=None),
        Attr("revision_number", Int(), create="-"),
        Attr("created_at", String(None), create="-"),
        Attr("updated_at", String(None), create="-"),
    ),
)
