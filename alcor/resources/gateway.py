"""Gateways (/v2.0/gateways, native /project/{p}/gateways): read-only, one per network.

A gateway follows its network (northbound spec §14): the gateway manager creates it with
the network and removes it once Zeta has forgotten the VPC. `pending_operations`,
`attempts` and `last_attempt_at` are computed from the outbox rows behind it.
"""

from alcor import errors
from alcor.resources.base import Attr, Resource
from alcor.resources.types import Enum, Int, IpAddress, ListOf, Mac, Obj, String, Uuid

STATUSES = ("PENDING", "READY", "DELETING", "ERROR")
DESTINATION = Obj(fields=(("ip_address", IpAddress(), True), ("mac_address", Mac(), True)))

GATEWAY = Resource(
    name="gateway",
    collection="gateways",
    path="gateways",
    native_path="gateways",
    table="gateways",
    not_found=errors.GatewayNotFound,
    has_tags=False,
    attrs=(
        Attr("id", Uuid(), create="-"),
        Attr("project_id", String(255), create="-"),
        Attr("tenant_id", String(255), create="-", column="project_id", filter=True, sort=True),
        Attr("network_id", Uuid(), create="-", doc="`vpc_id` on the native path"),
        Attr("type", Enum(("ZETA",)), create="-"),
        Attr("status", Enum(STATUSES), create="-"),
        Attr("zgc_id", String(255), create="-", nullable=True),
        Attr("destinations", ListOf(DESTINATION), create="-", filter=False),
        Attr("port_inband_operation", Int(), create="-", nullable=True),
        Attr("pending_operations", Int(), create="-", column=None),
        Attr("attempts", Int(), create="-", column=None),
        Attr("last_error", String(None), create="-", nullable=True, filter=False, sort=False),
        Attr("last_attempt_at", String(None), create="-", column=None, nullable=True),
        Attr("revision_number", Int(), create="-"),
        Attr("created_at", String(None), create="-"),
        Attr("updated_at", String(None), create="-"),
    ),
)
