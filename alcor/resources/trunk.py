"""Trunks (/v2.0/trunks): a parent port carrying subports tagged by VLAN (trunk,
trunk-details)."""

from __future__ import annotations

from typing import Any

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.types import Bool, Enum, Invalid, Obj, Type, Uuid

SEGMENTATION_TYPES = ("vlan", "inherit")
VLAN_RANGE = (1, 4094)


class TrunkNotFound(errors.NotFound):
    """No visible trunk with that id."""

    type_name = None
    message = "Trunk {id} could not be found."


class SubPortNotFound(errors.NotFound):
    """The port is not a subport of the trunk."""

    type_name = None
    message = "SubPort {port_id} on trunk {trunk_id} could not be found."


class TrunkPortInUse(errors.InUse):
    """The port is a subport of a trunk."""

    message = "Port {port_id} is in use by another trunk."


class ParentPortInUse(errors.InUse):
    """The port is the parent of a trunk (or the trunk's own parent)."""

    message = "Port {port_id} is currently in use and is not eligible for use as a parent port."


class DuplicateSubPort(errors.InUse):
    """The segmentation is taken in the trunk."""

    message = (
        "segmentation_type {segmentation_type} and segmentation_id {segmentation_id} already "
        "in use on trunk {trunk_id}."
    )


class SubPortMtuGreaterThanTrunkPortMtu(errors.Conflict):
    """A subport's network MTU exceeds the parent's."""

    message = (
        "MTU {port_mtu} of subport {port_id} cannot be greater than MTU {trunk_mtu} of trunk "
        "{trunk_id}."
    )


class PortInUseAsTrunkParent(errors.InUse):
    """The port is a trunk's parent (it cannot be deleted)."""

    message = "Port {port_id} is currently a parent port for trunk {trunk_id}."


class PortInUseAsSubPort(errors.InUse):
    """The port is a trunk's subport (it cannot be deleted)."""

    message = "Port {port_id} is currently a subport for trunk {trunk_id}."


class TrunkDisabled(errors.Conflict):
    """admin_state_up is false: the trunk cannot be changed or deleted."""

    message = "Trunk {trunk_id} is currently disabled."


class SubPorts(Type):
    """A list of subports, checked as Neutron's `type:subports` validator does."""

    def convert(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise Invalid(f"Invalid data format for subports: '{value}' is not a list")
        seen: set[str] = set()
        segmentations: set[tuple[Any, Any]] = set()
        out = []
        for item in value:
            subport = _subport(item, seen)
            kind, seg = subport.get("segmentation_type"), subport.get("segmentation_id")
            if kind != "inherit" and len(subport) > 1:
                if kind is None or seg is None:
                    raise Invalid(
                        f"Invalid subport details '{item}': missing segmentation information. "
                        "Must specify both segmentation_id and segmentation_type"
                    )
                if (kind, seg) in segmentations:
                    raise Invalid(f"Segmentation ID '{seg}' for '{item}' is not unique")
                segmentations.add((kind, seg))
            out.append(subport)
        return out

    @property
    def is_scalar(self) -> bool:
        return False

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": SUBPORT.schema()}


class SegmentationId(Type):
    """A VLAN id as a number or a numeric string (its range is checked with the rest)."""

    def convert(self, value: Any) -> int | str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise Invalid(f"Invalid subport details: segmentation_id '{value}' is not an integer")
        return value

    def schema(self) -> dict[str, Any]:
        return {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+$"}]}


SUBPORT = Obj(
    fields=(
        ("port_id", Uuid(), True),
        ("segmentation_type", Enum(SEGMENTATION_TYPES), False),
        ("segmentation_id", SegmentationId(), False),
    )
)


def _subport(item: Any, seen: set[str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise Invalid(f"Invalid data format for subport: '{item}' is not a dict")
    if "port_id" not in item:
        raise Invalid("A valid port UUID must be specified")
    subport = SUBPORT.convert(item)
    if subport["port_id"] in seen:
        raise Invalid(f"Non unique UUID for subport: '{item['port_id']}'")
    seen.add(subport["port_id"])
    return subport


TRUNK = Resource(
    name="trunk",
    collection="trunks",
    path="trunks",
    table="trunks",
    not_found=TrunkNotFound,
    attrs=(
        *std_attrs(status=Enum(("ACTIVE", "DOWN", "BUILD", "DEGRADED", "ERROR"))),
        Attr("admin_state_up", Bool(), default=True, update="Y"),
        Attr("port_id", Uuid(), create="R"),
        Attr("sub_ports", SubPorts(), default=[], column=None, filter=False),
    ),
)
