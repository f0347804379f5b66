"""The records the southbound keeps of the committed network: what goal states need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class NetworkRec:
    """What goal states need of a network (VPC)."""

    id: str
    project_id: str
    name: str
    cidr: str
    seg_id: int
    net_type: str
    revision: int
    gateway_ids: tuple[str, ...] = ()  # READY Zeta gateways (southbound spec §8.3)
    qos_policy_id: str = ""  # the network's QoS policy (its non-"network:" ports')


@dataclass(slots=True)
class SubnetRec:
    """What goal states need of a subnet."""

    id: str
    network_id: str
    name: str
    cidr: str
    ip_version: int
    gateway_ip: str
    gateway_mac: str
    dhcp: bool
    dns: tuple[str, ...]
    router_id: str | None
    revision: int


@dataclass(slots=True)
class PortRec:
    """What goal states need of a port; `node_id` is set only when bound to a known node."""

    id: str
    network_id: str
    project_id: str
    name: str
    mac: str
    device_id: str
    device_owner: str
    fixed_ips: tuple[tuple[str, str], ...]  # (subnet_id, ip)
    pairs: tuple[tuple[str, str], ...]  # (ip, mac)
    sgs: tuple[str, ...]
    node_id: str | None
    admin_up: bool
    revision: int
    neighbor_revision: int
    dhcp_opts: tuple[tuple[str, str, int], ...] = ()  # extra_dhcp_opts: (name, value, ip v)
    security: bool = True  # port_security_enabled
    subnet_ids: tuple[str, ...] = ()  # the subnets of its fixed IPs (in order, unique)
    qos_policy_id: str = ""  # its own QoS policy (else its network's applies)

    def __post_init__(self) -> None:
        self.subnet_ids = tuple(dict.fromkeys(s for s, _ in self.fixed_ips))


@dataclass(slots=True)
class GatewayRec:
    """A router's external gateway (for SNAT on the hosts that hold the router)."""

    network_id: str
    subnet_id: str
    ip: str
    port_id: str  # the gateway port (its MAC is read when the state is built)
    snat: bool


@dataclass(slots=True)
class RouterRec:
    """What goal states need of a router."""

    id: str
    revision: int
    routes: tuple[tuple[str, str], ...]  # (destination, nexthop)
    admin_up: bool
    gateway: GatewayRec | None = None


@dataclass(slots=True)
class SgRec:
    """A security group and its rules."""

    id: str
    name: str
    revision: int
    rules: tuple[dict[str, Any], ...]

    @property
    def remote_groups(self) -> set[str]:
        """Return the groups its rules name as remote_group_id."""
        return {r["remote_group_id"] for r in self.rules if r.get("remote_group_id")}


@dataclass(slots=True)
class NodeRec:
    """A compute node as the southbound sees it."""

    id: str
    name: str
    local_ip: str
    server_port: int
    mac: str
    data_ip: str
    dvr_mac: str
    transport: str
    grpc_api: str
    mq_topic: str | None
    subscribe_port: int | None
    agent_type: str


@dataclass(slots=True)
class AclRule:
    """One stateless ACL rule (northbound spec §13)."""

    id: str
    number: int
    direction: str  # ingress | egress
    ethertype: str  # IPv4 | IPv6
    protocol: str  # tcp | udp | icmp | icmpv6 | all
    prefix: str
    port_min: int | None
    port_max: int | None
    icmp_type: int | None
    icmp_code: int | None
    action: str  # allow | deny


@dataclass(slots=True)
class AclRec:
    """A network ACL: the subnets it guards and its rules, lowest number first."""

    id: str
    vpc_id: str
    name: str
    revision: int
    subnets: tuple[str, ...]
    rules: tuple[AclRule, ...]


@dataclass(slots=True)
class FipRec:
    """A floating IP associated with a port (DNAT/SNAT on the port's host)."""

    id: str
    revision: int
    address: str
    fixed_ip: str
    port_id: str
    router_id: str
    network_id: str


@dataclass(slots=True)
class PfRec:
    """A floating IP port forwarding (DNAT on its internal port's host)."""

    id: str
    revision: int
    fip_id: str
    address: str  # the floating IP address
    protocol: str
    external: tuple[int, int]  # port range, inclusive
    internal_port_id: str
    internal_ip: str
    internal: tuple[int, int]
    router_id: str


@dataclass(slots=True)
class ZetaGatewayRec:
    """A VPC's Zeta gateway as hosts hold it (GatewayState, southbound spec §8.3)."""

    id: str
    vpc_id: str
    revision: int
    destinations: tuple[tuple[str, str], ...]  # (ip, mac)
    port_ibo: int


@dataclass(slots=True)
class QosRule:
    """One rule of a QoS policy (the fields its type does not have are 0 / empty)."""

    id: str
    type: str  # bandwidth_limit | dscp_marking | minimum_bandwidth | minimum_packet_rate
    direction: str
    max_kbps: int = 0
    max_burst_kbps: int = 0
    dscp_mark: int = 0
    min_kbps: int = 0
    min_kpps: int = 0


@dataclass(slots=True)
class QosRec:
    """A QoS policy with its rules (on the hosts whose ports use it)."""

    id: str
    name: str
    revision: int
    rules: tuple[QosRule, ...]


@dataclass(slots=True)
class SubportRec:
    """A trunk's subport: the VLAN it rides on its parent port's interface."""

    trunk_id: str
    parent_port_id: str
    segmentation_type: str
    segmentation_id: int
