"""Typed shapes of the resource records that cross the bus and the store.

A record is the plain dict the generic repository reads and writes (alcor/resources/repo.py):
API attribute names, plus the internal columns a manager registers (`neighbor_revision`,
`gw_port_id`, ...). The attribute tables beside this module stay the source of truth for
validation and columns; these types say what a reader of an event or a command result may
rely on. They are `total=False`: a lean read (`QueryPorts(fields=...)`) carries only the
attributes asked for, and a record being built fills its keys step by step.
"""

from __future__ import annotations

from typing import Any, TypedDict


class FixedIp(TypedDict):
    """One fixed address of a port."""

    subnet_id: str
    ip_address: str


class AddressPair(TypedDict, total=False):
    """An allowed address pair (the MAC defaults to the port's)."""

    ip_address: str
    mac_address: str


class AllocationPool(TypedDict):
    """A subnet's allocation pool: first and last address, inclusive."""

    start: str
    end: str


class HostRoute(TypedDict):
    """A subnet host route."""

    destination: str
    nexthop: str


class Route(TypedDict):
    """A router's extra route."""

    destination: str
    nexthop: str


class GatewayInfo(TypedDict, total=False):
    """A router's external_gateway_info."""

    network_id: str
    enable_snat: bool
    external_fixed_ips: list[FixedIp]


class _Standard(TypedDict, total=False):
    """The attributes every revisioned resource has (northbound §1.6)."""

    id: str
    project_id: str
    name: str
    description: str
    tags: list[str]
    revision_number: int
    created_at: str
    updated_at: str


NetworkRecord = TypedDict(
    "NetworkRecord",
    {
        "status": str,
        "admin_state_up": bool,
        "subnets": list[str],
        "shared": bool,
        "router:external": bool,
        "provider:network_type": str,
        "provider:physical_network": str | None,
        "provider:segmentation_id": int | None,
        "mtu": int,
        "port_security_enabled": bool,
        "availability_zone_hints": list[str],
        "availability_zones": list[str],
        "cidr": str | None,
    },
    total=False,
)


class Network(_Standard, NetworkRecord, total=False):
    """A network (VPC): its L2 segment, sharing and external flag."""


class Subnet(_Standard, total=False):
    """A subnet: its CIDR, gateway, pools and IPv6 modes (`seq` orders a network's)."""

    network_id: str
    ip_version: int
    cidr: str
    gateway_ip: str | None
    gateway_mac: str | None
    allocation_pools: list[AllocationPool]
    dns_nameservers: list[str]
    host_routes: list[HostRoute]
    enable_dhcp: bool
    ipv6_address_mode: str | None
    ipv6_ra_mode: str | None
    subnetpool_id: str | None
    attached_router_id: str | None
    attached_router_ids: list[str]
    seq: int


PortBinding = TypedDict(
    "PortBinding",
    {
        "binding:host_id": str,
        "binding:vif_type": str,
        "binding:vif_details": dict[str, Any],
        "binding:vnic_type": str,
        "binding:profile": dict[str, Any],
    },
    total=False,
)


class Port(_Standard, PortBinding, total=False):
    """A port: MAC, fixed IPs, security, binding; `neighbor_revision` versions its
    neighbor entry, `network_project_id` is its network's owner (visibility)."""

    status: str
    network_id: str
    admin_state_up: bool
    mac_address: str
    fixed_ips: list[FixedIp]
    device_id: str
    device_owner: str
    security_groups: list[str]
    port_security_enabled: bool
    allowed_address_pairs: list[AddressPair]
    extra_dhcp_opts: list[dict[str, Any]]
    neighbor_revision: int
    network_project_id: str


class Router(_Standard, total=False):
    """A router: its gateway (port `gw_port_id`) and extra routes."""

    status: str
    admin_state_up: bool
    external_gateway_info: GatewayInfo | None
    routes: list[Route]
    distributed: bool
    ha: bool
    gw_port_id: str | None


class SecurityGroupRule(_Standard, total=False):
    """A security group rule (`sg_project_id` is its group's project, for quota)."""

    security_group_id: str
    direction: str
    ethertype: str
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None
    sg_project_id: str
    seq: int


class SecurityGroup(_Standard, total=False):
    """A security group; read through the API it carries its rules."""

    security_group_rules: list[SecurityGroupRule]
    is_default: int


class FloatingIp(_Standard, total=False):
    """A floating IP and the port (and fixed address) it is associated with."""

    status: str
    floating_network_id: str
    floating_ip_address: str
    port_id: str | None
    fixed_ip_address: str | None
    router_id: str | None
    port_details: dict[str, Any] | None


NodeRecord = TypedDict(
    "NodeRecord",
    {
        "node_id": str,
        "node_name": str,
        "local_ip": str,
        "mac_address": str,
        "veth": str,
        "server_port": int,
        "host_dvr_mac": str | None,
        "data-path-ip": str | None,
        "ncm_id": str | None,
        "transport": str,
        "mq_topic": str | None,
        "grpc_api": str,
        "agent_type": str,
        "subscribe_port": int | None,
    },
    total=False,
)


class Node(NodeRecord, total=False):
    """A compute node (host) and how goal states reach its agent."""


class NetworkAclRule(_Standard, total=False):
    """A numbered network ACL rule."""

    network_acl_id: str
    number: int
    direction: str
    ether_type: str
    protocol: str
    ip_prefix: str
    port_range_min: int | None
    port_range_max: int | None
    icmp_type: int | None
    icmp_code: int | None
    action: str


class NetworkAcl(_Standard, total=False):
    """A network ACL of a VPC and the subnets it is associated with."""

    vpc_id: str
    associated_subnets: list[str]
    network_acl_rules: list[NetworkAclRule]


class SubnetPool(_Standard, total=False):
    """A pool of prefixes subnets take their CIDR from."""

    prefixes: list[str]
    ip_version: int
    default_prefixlen: int
    min_prefixlen: int
    max_prefixlen: int
    default_quota: int | None
    shared: bool
    is_default: bool
    address_scope_id: str | None
