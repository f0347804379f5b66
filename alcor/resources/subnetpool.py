"""Subnet pools (/v2.0/subnetpools): prefixes that subnets can be allocated from."""

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.types import Bool, Cidr, Int, IntEnum, ListOf, String, Uuid


class SubnetPoolNotFound(errors.NotFound):
    """Subnet pool not visible."""

    type_name = None
    message = "Subnet pool {id} could not be found."


# Neutron answers prefix lengths as strings ("24"), and so does alcor.
PREFIXLEN_TEXT = String(3, pattern="[0-9]{1,3}")

SUBNETPOOL = Resource(
    name="subnetpool",
    collection="subnetpools",
    path="subnetpools",
    native_path="subnetpools",
    table="subnetpools",
    not_found=SubnetPoolNotFound,
    attrs=(
        *std_attrs(),
        Attr(
            "prefixes", ListOf(Cidr(strict=False), unique=True, min_items=1), create="R", update="Y"
        ),
        Attr("ip_version", IntEnum((4, 6)), create="-"),
        Attr("default_prefixlen", Int(0, 128), create="Y", update="Y", served=PREFIXLEN_TEXT),
        Attr("min_prefixlen", Int(0, 128), create="Y", update="Y", served=PREFIXLEN_TEXT),
        Attr("max_prefixlen", Int(0, 128), create="Y", update="Y", served=PREFIXLEN_TEXT),
        Attr("default_quota", Int(minimum=0), create="Y", update="Y", nullable=True, default=None),
        Attr("shared", Bool(), default=False, create="A"),
        Attr("is_default", Bool(), default=False, create="A", update="A"),
        Attr(
            "address_scope_id",
            Uuid(),
            create="Y",
            update="Y",
            nullable=True,
            default=None,
            filter=True,
        ),
    ),
)
