"""Networks (/v2.0/networks, native /project/{p}/vpcs)."""

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.dns import DnsDomain
from alcor.resources.types import Bool, Cidr, Enum, Int, ListOf, Obj, String, Uuid

NETWORK_TYPES = ("vxlan", "geneve", "gre", "vlan", "flat")
PROVIDER_SEGMENT = Obj(
    fields=(
        ("provider:network_type", Enum(NETWORK_TYPES), True),
        ("provider:physical_network", String(64), False),
        ("provider:segmentation_id", Int(), False),
    ),
    nullable_fields=frozenset({"provider:physical_network", "provider:segmentation_id"}),
)

NETWORK = Resource(
    name="network",
    collection="networks",
    path="networks",
    native_path="vpcs",
    table="networks",
    not_found=errors.NetworkNotFound,
    attrs=(
        *std_attrs(status=Enum(("ACTIVE", "DOWN", "BUILD", "ERROR"))),
        Attr("admin_state_up", Bool(), default=True, update="Y"),
        Attr("subnets", ListOf(Uuid()), create="-", filter=True),
        Attr("shared", Bool(), default=False, create="A", update="A"),
        Attr("router:external", Bool(), default=False, create="A", update="A"),
        # The default external network (auto-allocated-topology): its wildcard
        # access_as_external policy cannot be deleted.
        Attr("is_default", Bool(), default=False, create="A", update="A"),
        Attr("provider:network_type", Enum(NETWORK_TYPES), create="A", update="A", read="A"),
        Attr(
            "provider:physical_network", String(64), create="A", update="A", read="A", nullable=True
        ),
        Attr("provider:segmentation_id", Int(), create="A", update="A", read="A", nullable=True),
        # multi-provider: the segments of a network with several (then without provider:*);
        # on create, instead of provider:*.
        Attr(
            "segments",
            ListOf(PROVIDER_SEGMENT, min_items=1),
            create="A",
            read="A",
            nullable=True,
            default=None,
            filter=False,
        ),
        # Range checked by the manager: out of 68..max is InvalidInput (§3.1), not a type error.
        Attr("mtu", Int(), create="Y", update="Y"),
        Attr("port_security_enabled", Bool(), create="Y", update="Y"),
        Attr(
            "availability_zone_hints",
            ListOf(String(255), unique=True),
            default=[],
            create="Y",
            filter=True,
        ),
        Attr("availability_zones", ListOf(String(255)), create="-", filter=True),
        Attr("dns_domain", DnsDomain(), default="", update="Y"),
        Attr(
            "qos_policy_id",
            Uuid(),
            nullable=True,
            default=None,
            update="Y",
            doc="QoS policy of the network's ports (qos); a project's default policy applies "
            "when absent",
        ),
        Attr(
            "cidr",
            Cidr(),
            create="Y",
            nullable=True,
            default=None,
            doc="VPC CIDR (Alcor extension)",
        ),
    ),
    native_ignored=frozenset(
        {"default", "is_default", "subnets", "availability_zones", "routes", "router"}
    ),
    extra_filters=frozenset(),
)
