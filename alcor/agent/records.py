"""Compact records and packing helpers behind the agent's tables."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

from alcor.proto import schema

# Resource kinds as plain ints (schema.ResourceType values) for speed in the apply loop.
VPC, SUBNET, PORT, NEIGHBOR, SECURITYGROUP, DHCP, ROUTER, GATEWAY, NETWORK_ACL, FLOATINGIP = range(
    10
)
QOS_POLICY = int(schema.ResourceType.QOS_POLICY)
PORT_FORWARDING = int(schema.ResourceType.PORT_FORWARDING)
# Kind value -> name (the values may have gaps: a dict, not a list).
KIND_NAMES = {int(k): k.name or "" for k in schema.ResourceType}
L3 = int(schema.NeighborType.L3)

_SMALL_INTS: dict[int, int] = {}


def intern_int(n: int) -> int:
    """Share int objects (tunnel ids) across the many neighbors that carry them."""
    return _SMALL_INTS.setdefault(n, n)


V4, V6 = 4, 6


def ip_to_int(ip: str) -> int:
    """Pack a dotted-quad IPv4 string into an int (raises OSError if it is not one)."""
    return int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")


def int_to_ip(n: int) -> str:
    """Unpack an int into a dotted-quad IPv4 string."""
    return socket.inet_ntop(socket.AF_INET, n.to_bytes(4, "big"))


def ip6_to_int(ip: str) -> int:
    """Pack an IPv6 string into an int (raises OSError if it is not one)."""
    return int.from_bytes(socket.inet_pton(socket.AF_INET6, ip), "big")


def int_to_ip6(n: int) -> str:
    """Unpack an int into a compressed IPv6 string."""
    return socket.inet_ntop(socket.AF_INET6, n.to_bytes(16, "big"))


def address(ip: str) -> tuple[int, int]:
    """Return (4 or 6, address as int) of an IP string (raises OSError if it is neither)."""
    if ":" in ip:
        return V6, ip6_to_int(ip)
    return V4, ip_to_int(ip)


def address_text(family: int, n: int) -> str:
    """Return the text form of an address packed by `address`."""
    return int_to_ip6(n) if family == V6 else int_to_ip(n)


def mac_to_int(mac: str) -> int:
    """Pack a colon-separated MAC into an int."""
    return int(mac.replace(":", ""), 16)


def int_to_mac(n: int) -> str:
    """Unpack an int into a lower-case colon-separated MAC."""
    h = f"{n:012x}"
    return f"{h[0:2]}:{h[2:4]}:{h[4:6]}:{h[6:8]}:{h[8:10]}:{h[10:12]}"


FixedIp = tuple[int, str, str, int, "str | None"]  # type, subnet, ip, tunnel, router


class Neighbor:
    """A compact neighbor record, for the ≤ 400 B per neighbor budget (spec §7).

    The first fixed IP is stored inline (most ports have one), the MAC and that IP as
    ints, and repeated strings (subnet, VPC, host IP/MAC) are shared. `fixed_ips` reads and
    writes all of them as (neighbor_type, subnet_id, ip, tunnel_id, router_id) tuples; an
    L3 fixed IP with router_id None is `l3_deferred` (stored as L2 until a local router
    owns its subnet).
    """

    _type: int
    _subnet: str
    _ip: int | None
    _tunnel: int
    _router: str | None

    __slots__ = (
        "_extra",
        "_ip",
        "_mac",
        "_router",
        "_subnet",
        "_tunnel",
        "_type",
        "groups",
        "host_ip",
        "host_mac",
        "id",
        "name",
        "pair_entries",
        "pairs",
        "revision",
        "vpc_id",
    )

    def __init__(
        self,
        nid: str,
        revision: int,
        vpc_id: str,
        name: str,
        mac: str,
        host_ip: str,
        host_mac: str,
        fixed_ips: tuple[FixedIp, ...],
        pairs: tuple[tuple[str, str], ...],
        groups: tuple[str, ...] = (),
    ) -> None:
        self.id = nid
        self.groups = groups
        self.revision = revision
        self.vpc_id = vpc_id
        self.name = name
        self._mac = mac_to_int(mac)
        self.host_ip = host_ip
        self.host_mac = host_mac
        self.pairs = pairs
        self.fixed_ips = fixed_ips
        self.pair_entries: tuple[PairEntry, ...] = (
            tuple(PairEntry(self, ip, pair_mac or mac) for ip, pair_mac in pairs if "/" not in ip)
            if pairs
            else ()
        )

    @property
    def mac(self) -> str:
        """Return the MAC address."""
        return int_to_mac(self._mac)

    @property
    def port_id(self) -> str:
        """Return the port id (an ARP entry's owner)."""
        return self.id

    @property
    def fixed_ips(self) -> tuple[FixedIp, ...]:
        """Return every fixed IP as (neighbor_type, subnet_id, ip, tunnel_id, router_id)."""
        if self._ip is None:
            return self._extra
        first = (self._type, self._subnet, int_to_ip(self._ip), self._tunnel, self._router)
        return (first, *self._extra)

    @fixed_ips.setter
    def fixed_ips(self, value: tuple[FixedIp, ...]) -> None:
        self._extra: tuple[FixedIp, ...] = tuple(value[1:])
        if not value or ":" in value[0][2]:
            # Stored whole when there is no IPv4 first fixed IP to pack inline.
            self._extra = tuple(value)
            self._type, self._subnet, self._ip, self._tunnel, self._router = 0, "", None, 0, None
            return
        t, s, ip, tid, r = value[0]
        self._type, self._subnet, self._ip, self._tunnel, self._router = (
            t,
            s,
            ip_to_int(ip),
            tid,
            r,
        )

    def entries(self) -> Iterator[tuple[int, int, int, Neighbor | PairEntry]]:
        """Yield (family, address, tunnel_id, entry) of every fixed IP and address pair.

        IPv4 addresses go to the ARP table, IPv6 ones to the neighbor-discovery table. An
        allowed address pair is a neighbor of its port (a prefix pair has no entry).
        """
        tunnel = 0
        if self._ip is not None:
            tunnel = self._tunnel
            yield V4, self._ip, self._tunnel, self
        for _, _, ip, tid, _ in self._extra:
            tunnel = tunnel or tid
            family, n = address(ip)
            yield family, n, tid, self
        for entry in self.pair_entries:
            family, n = address(entry.ip)
            yield family, n, tunnel, entry

    def to_json(self, own_ip: str) -> dict[str, Any]:
        """Return the neighbor with §1 field names plus its programming details."""
        return {
            "revision_number": self.revision,
            "id": self.id,
            "vpc_id": self.vpc_id,
            "name": self.name,
            "mac_address": self.mac,
            "host_mac_address": self.host_mac,
            "host_ip_address": self.host_ip,
            "local": self.host_ip == own_ip,
            "fixed_ips": [
                {
                    "neighbor_type": schema.NeighborType(t).name,
                    "subnet_id": s,
                    "ip_address": ip,
                    "tunnel_id": tid,
                    "router_id": r,
                    "l3_deferred": t == L3 and r is None,
                }
                for t, s, ip, tid, r in self.fixed_ips
            ],
            "allow_address_pairs": [{"ip_address": i, "mac_address": m} for i, m in self.pairs],
            "security_group_ids": list(self.groups),
        }


class PairEntry:
    """An ARP/ND entry for an allowed address pair: the pair's MAC on its port's host."""

    __slots__ = ("ip", "mac", "owner")

    def __init__(self, owner: Neighbor, ip: str, mac: str) -> None:
        self.owner = owner
        self.ip = ip
        self.mac = mac

    @property
    def host_ip(self) -> str:
        """Return the VTEP of the port's host."""
        return self.owner.host_ip

    @property
    def port_id(self) -> str:
        """Return the port the pair belongs to."""
        return self.owner.id


class GatewayArp:
    """An ARP entry for a subnet gateway IP, filled from a router's subnet."""

    __slots__ = ("host_ip", "mac", "port_id", "router_id")

    def __init__(self, mac: str, host_ip: str, router_id: str) -> None:
        self.mac = mac
        self.host_ip = host_ip
        self.port_id = ""
        self.router_id = router_id


def share(s: str) -> str:
    """Intern a string repeated across many records (subnet, VPC, host IP/MAC ids)."""
    return sys.intern(s)
