"""Ports (/v2.0/ports, native /project/{p}/ports)."""

from alcor import errors
from alcor.resources.base import Attr, Resource, std_attrs
from alcor.resources.dns import DnsDomain, DnsName
from alcor.resources.types import (
    Bool,
    Enum,
    IntEnum,
    IpAddress,
    IpOrCidr,
    ListOf,
    Mac,
    Obj,
    String,
    Uuid,
)

VNIC_TYPES = (
    "normal",
    "direct",
    "direct-physical",
    "macvtap",
    "baremetal",
    "virtio-forwarder",
    "smart-nic",
    "vdpa",
    "remote-managed",
)
STATUSES = ("DOWN", "ACTIVE", "ERROR", "N/A", "BUILD")

# Each fixed IP names its subnet, its address or both.
FIXED_IP = Obj(
    fields=(("subnet_id", Uuid(), False), ("ip_address", IpAddress(), False)), min_fields=1
)
ADDRESS_PAIR = Obj(fields=(("ip_address", IpOrCidr(), True), ("mac_address", Mac(), False)))
DHCP_OPT = Obj(
    fields=(
        ("opt_name", String(255, min_len=1), True),
        ("opt_value", String(255), True),
        ("ip_version", IntEnum((4, 6)), False),
    ),
    nullable_fields=frozenset({"opt_value"}),
)

PORT = Resource(
    name="port",
    collection="ports",
    path="ports",
    native_path="ports",
    table="ports",
    not_found=errors.PortNotFound,
    attrs=(
        *std_attrs(status=Enum(STATUSES)),
        Attr("network_id", Uuid(), create="R"),
        Attr("admin_state_up", Bool(), default=True, update="Y"),
        # null = generate one (port-mac-address-regenerate; on create the same as absent).
        Attr("mac_address", Mac(), create="W", update="A", nullable=True),
        Attr("fixed_ips", ListOf(FIXED_IP), create="W", update="W", filter=False),
        Attr("device_id", String(255), default="", update="Y"),
        Attr("device_owner", String(255), default="", update="Y"),
        Attr("security_groups", ListOf(Uuid(), unique=True), create="Y", update="Y", filter=True),
        Attr("port_security_enabled", Bool(), create="W", update="W"),
        Attr("allowed_address_pairs", ListOf(ADDRESS_PAIR), default=[], create="W", update="W"),
        Attr("extra_dhcp_opts", ListOf(DHCP_OPT), default=[], create="Y", update="Y"),
        Attr("binding:host_id", String(255), default="", create="S", update="S", read="S"),
        Attr("binding:vif_type", String(64), create="-", read="S"),
        Attr("binding:vif_details", Obj(), create="-", read="S"),
        Attr("binding:vnic_type", Enum(VNIC_TYPES), default="normal", update="Y"),
        Attr("binding:profile", Obj(max_bytes=4096), default={}, create="S", update="S", read="S"),
        # port-trusted-vif (admins only, as Neutron): mirrored in binding:profile["trusted"]
        # when set; null = not set.
        Attr("trusted", Bool(), nullable=True, default=None, create="A", update="A", read="A"),
        Attr("qos_policy_id", Uuid(), nullable=True, default=None, update="Y"),
        # dns-integration, dns-domain-ports: the port's name in DNS and its domain;
        # dns_assignment (computed) gives each fixed IP its host name and FQDN.
        Attr("dns_name", DnsName(), default="", update="Y"),
        Attr("dns_domain", DnsDomain(), default="", update="Y"),
        Attr("dns_assignment", ListOf(Obj()), create="-", column=None, filter=False),
        # What the port's minimum QoS rules reserve (port-resource-request[-groups]): admin only.
        Attr(
            "resource_request",
            Obj(),
            create="-",
            column=None,
            filter=False,
            read="A",
            nullable=True,
        ),
        # Only on the parent port of a trunk (trunk-details).
        Attr("trunk_details", Obj(), create="-", column=None, filter=False),
    ),
    native_ignored=frozenset(
        {
            "fast_path",
            "mac_learning_enabled",
            "uplink_status_propagation",
            "veth_name",
            "network_ns",
            "dns_assignment",
            "ip_allocation",
            "qos_network_policy_id",
            "resource_request",
            "binding:vif_type",
            "binding:vif_details",
        }
    ),
    extra_filters=frozenset({"fixed_ips"}),
)
