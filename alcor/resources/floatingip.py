"""Floating IPs (/v2.0/floatingips, native /project/{p}/elasticips)."""

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.dns import DnsDomain, DnsName
from alcor.resources.types import Enum, IpAddress, ListOf, Obj, Uuid

FLOATINGIP = Resource(
    name="floatingip",
    collection="floatingips",
    path="floatingips",
    native_path="elasticips",
    table="floatingips",
    not_found=errors.FloatingIPNotFound,
    attrs=(
        *std_attrs(name=False, status=Enum(("ACTIVE", "DOWN", "ERROR"))),
        Attr("floating_network_id", Uuid(), create="R"),
        Attr(
            "subnet_id",
            Uuid(),
            column=None,
            read="never",
            nullable=True,
            doc="write-only: allocate from this IPv4 subnet",
        ),
        Attr("floating_ip_address", IpAddress(version=4), create="A"),
        Attr("port_id", Uuid(), nullable=True, default=None, update="Y"),
        Attr("fixed_ip_address", IpAddress(), nullable=True, default=None, update="Y"),
        # floating-ip-router-writable: the router hosting the association may be named.
        Attr("router_id", Uuid(), nullable=True, default=None, update="Y"),
        Attr("port_details", Obj(), create="-", column=None, filter=False),
        # dns-integration: the floating IP's own DNS name and domain (set on create).
        Attr("dns_name", DnsName(), default=""),
        Attr("dns_domain", DnsDomain(), default=""),
        # expose-port-forwarding-in-fip
        Attr("port_forwardings", ListOf(Obj()), create="-", column=None, filter=False),
    ),
)
