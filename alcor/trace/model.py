"""What a packet evaluator needs to know of one host's tables, and what it answers.

The same evaluator runs over the reference agent's own tables (alcor/agent/tables.py) and
over what the controller knows a host holds (alcor/southbound/tracing.py): both expose a
host as a `HostTables`. Plain frozen records; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Port:
    """A port programmed on the host (its own VM interface)."""

    id: str
    vpc_id: str
    mac: str
    fixed_ips: tuple[tuple[str, str], ...]  # (subnet id, ip)
    groups: tuple[str, ...]
    security: bool  # port security enabled: security groups filter it


@dataclass(frozen=True, slots=True)
class Neighbor:
    """Where an address lives: its port, MAC and host (an ARP or ND entry)."""

    port_id: str
    mac: str
    host_ip: str
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Subnet:
    """A subnet the host knows."""

    id: str
    vpc_id: str
    cidr: str
    tunnel_id: int
    gateway_ip: str


@dataclass(frozen=True, slots=True)
class Gateway:
    """A router's external gateway."""

    ip: str
    cidr: str
    snat: bool


@dataclass(frozen=True, slots=True)
class Router:
    """A router the host holds: the subnets it joins, its extra routes, its gateway."""

    id: str
    subnet_ids: tuple[str, ...]
    routes: tuple[tuple[str, str], ...]  # (destination cidr, next hop)
    gateway: Gateway | None


@dataclass(frozen=True, slots=True)
class SgRule:
    """One security group rule (stateful; allow only)."""

    id: str
    direction: str  # ingress | egress
    ethertype: str  # IPv4 | IPv6
    protocol: str  # tcp | udp | icmp | any
    port_min: int  # 0 = any
    port_max: int
    remote_prefix: str  # "" = any
    remote_group: str  # "" = none


@dataclass(frozen=True, slots=True)
class SecurityGroup:
    """A security group and its rules."""

    id: str
    rules: tuple[SgRule, ...]


@dataclass(frozen=True, slots=True)
class AclRule:
    """One stateless ACL rule; the lowest number that matches decides."""

    id: str
    number: int
    direction: str
    ethertype: str
    protocol: str  # tcp | udp | icmp | icmpv6 | all
    prefix: str
    port_min: int  # 0 = any
    port_max: int
    icmp_type: int  # -1 = any
    icmp_code: int
    action: str  # allow | deny


@dataclass(frozen=True, slots=True)
class Acl:
    """A network ACL guarding some subnets."""

    id: str
    subnet_ids: tuple[str, ...]
    rules: tuple[AclRule, ...]


@dataclass(frozen=True, slots=True)
class FloatingIp:
    """A floating IP of one of the host's ports."""

    id: str
    address: str
    fixed_ip: str
    port_id: str
    router_id: str


@dataclass(frozen=True, slots=True)
class PortForwarding:
    """A floating IP port forwarding to one of the host's ports."""

    id: str
    address: str  # the floating IP address
    protocol: str  # tcp | udp
    external: tuple[int, int]
    port_id: str
    internal_ip: str
    internal: tuple[int, int]

    def internal_port(self, external_port: int) -> int | None:
        """Return the internal port an external one maps to, or None outside the range."""
        first, last = self.external
        if not first <= external_port <= last:
            return None
        if self.internal[0] == self.internal[1]:
            return self.internal[0]
        return self.internal[0] + external_port - first

    def forwards(self, protocol: str, external_port: int) -> bool:
        """Tell whether this forwarding takes (protocol, external_port) of its address."""
        return self.protocol == protocol and self.internal_port(external_port) is not None


class HostTables(Protocol):
    """One host's tables, as lookups (implementations may compute them lazily)."""

    host: str  # the host's id (node id, or the agent's address)
    host_ip: str  # its data-path address (neighbors' host_ip)

    def port(self, port_id: str) -> Port | None:
        """Return one of the host's own ports."""

    def port_by_ip(self, vpc_id: str, ip: str) -> Port | None:
        """Return the host's own port with this fixed IP in the VPC."""

    def neighbor(self, ip: str, tunnel_id: int) -> Neighbor | None:
        """Return the ARP (IPv4) or ND (IPv6) entry of an address."""

    def subnet(self, subnet_id: str) -> Subnet | None:
        """Return a subnet the host knows."""

    def subnets_of_vpc(self, vpc_id: str) -> list[Subnet]:
        """Return the subnets of a VPC the host knows."""

    def router(self, router_id: str) -> Router | None:
        """Return a router the host holds."""

    def router_of_subnet(self, subnet_id: str) -> Router | None:
        """Return the router the host holds with an interface on a subnet."""

    def security_group(self, group_id: str) -> SecurityGroup | None:
        """Return a security group the host holds."""

    def acl_of_subnet(self, subnet_id: str) -> Acl | None:
        """Return the ACL guarding a subnet, as the host holds it."""

    def floating_ip(self, address: str) -> FloatingIp | None:
        """Return the host's floating IP with this address."""

    def floating_ips_of_port(self, port_id: str) -> list[FloatingIp]:
        """Return the floating IPs of one of the host's ports."""

    def port_forwarding(self, address: str, protocol: str, port: int) -> PortForwarding | None:
        """Return the host's forwarding of a floating IP's (protocol, port)."""


@dataclass(frozen=True, slots=True)
class Packet:
    """The first packet of a flow."""

    src_ip: str
    dst_ip: str
    protocol: str  # tcp | udp | icmp
    dst_port: int = 0  # tcp/udp destination port; icmp: 0
    src_port_id: str | None = None  # the sending port, when it is one of ours


@dataclass(frozen=True, slots=True)
class Hop:
    """One decision on the way, naming the object that made it."""

    host: str
    stage: str
    detail: str
    object: str = ""  # e.g. "security_group:<id>", "network_acl:<id>#<number>"

    def to_api(self) -> dict[str, str]:
        """Return the hop as the trace API answers it."""
        return {
            "host": self.host,
            "stage": self.stage,
            "detail": self.detail,
            "object": self.object,
        }


@dataclass
class Trace:
    """The verdict on a packet, the reason, and the hops that led there."""

    verdict: str = "dropped"  # delivered | dropped
    reason: str = ""
    hops: list[Hop] = field(default_factory=list)

    def to_api(self) -> dict[str, object]:
        """Return the trace as the API answers it."""
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "hops": [h.to_api() for h in self.hops],
        }


class World(Protocol):
    """Every host's tables, and where addresses live."""

    def tables(self, host: str) -> HostTables | None:
        """Return a host's tables."""

    def host_of(self, host_ip: str) -> str | None:
        """Return the host whose data-path address this is."""

    def host_of_port(self, port_id: str) -> str | None:
        """Return the host a port is bound to."""

    def floating_ip_host(self, address: str) -> str | None:
        """Return the host that holds a floating IP address (its port's host)."""

    def port_forwarding_host(self, address: str, protocol: str, port: int) -> str | None:
        """Return the host that holds the forwarding of a floating IP's (protocol, port)."""


Conntrack = Mapping[tuple[str, str, str, int], bool]  # (src, dst, protocol, port) -> allowed
