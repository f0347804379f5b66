"""Subnets (/v2.0/subnets, native /project/{p}/subnets)."""

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.types import (
    Bool,
    Cidr,
    Enum,
    Int,
    IntEnum,
    IpAddress,
    ListOf,
    Obj,
    String,
    Uuid,
)

IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")

POOL = Obj(fields=(("start", IpAddress(), True), ("end", IpAddress(), True)))
HOST_ROUTE = Obj(fields=(("destination", Cidr(), True), ("nexthop", IpAddress(), True)))

SUBNET = Resource(
    name="subnet",
    collection="subnets",
    path="subnets",
    native_path="subnets",
    table="subnets",
    not_found=errors.SubnetNotFound,
    attrs=(
        *std_attrs(),
        Attr("network_id", Uuid(), create="R"),
        Attr("ip_version", IntEnum((4, 6)), create="Y"),
        # Required unless a subnetpool_id lets the pool choose it (from `prefixlen`).
        Attr("cidr", Cidr(), create="Y"),
        Attr(
            "prefixlen",
            Int(0, 128),
            column=None,
            read="never",
            doc="write-only: the size of a CIDR allocated from subnetpool_id",
        ),
        Attr("gateway_ip", IpAddress(), create="Y", update="Y", nullable=True),
        Attr("allocation_pools", ListOf(POOL), create="Y", update="Y"),
        Attr(
            "dns_nameservers", ListOf(IpAddress(), unique=True), default=[], create="Y", update="Y"
        ),
        Attr("host_routes", ListOf(HOST_ROUTE, unique=True), default=[], create="Y", update="Y"),
        Attr("enable_dhcp", Bool(), default=True, create="Y", update="Y"),
        Attr("ipv6_address_mode", Enum(IPV6_MODES), create="Y", nullable=True, default=None),
        Attr("ipv6_ra_mode", Enum(IPV6_MODES), create="Y", nullable=True, default=None),
        Attr("subnetpool_id", String(36), create="Y", nullable=True, default=None),
        Attr(
            "use_default_subnetpool",
            Bool(),
            column=None,
            read="never",
            doc="write-only (default-subnetpools): allocate from the default pool of the "
            "subnet's IP version",
        ),
        # segment: the network segment the subnet is on (create only).
        Attr("segment_id", Uuid(), nullable=True, default=None),
        # subnet-service-types: the device owners whose ports get addresses here ([] = any
        # port). Any project may set them on its subnets: Neutron's create/update_subnet:
        # service_types rules are admin-only but not enforced (no enforce_policy).
        Attr(
            "service_types",
            ListOf(String(255, min_len=1), unique=True),
            default=[],
            update="Y",
            filter=True,
        ),
        Attr(
            "attached_router_id",
            Uuid(),
            create="-",
            nullable=True,
            doc="the first router with an interface on this subnet (Alcor extension)",
        ),
        Attr(
            "attached_router_ids",
            ListOf(Uuid()),
            create="-",
            filter=False,
            doc="every router with an interface on this subnet, first attached first "
            "(Alcor extension)",
        ),
    ),
    # `shared=<bool>`: subnets whose network is (not) shared. Not an attribute, as in
    # Neutron, where a subnet's shared state is its network's (neutron-tempest-plugin).
    extra_filters=frozenset({"shared"}),
)
