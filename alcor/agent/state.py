"""One reference agent's in-memory tables (spec §7) and its revision bookkeeping (§4.3)."""

from __future__ import annotations

import socket
import sys
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any

from alcor.proto import schema
from alcor.southbound import wire

# Resource kinds as plain ints (schema.ResourceType values) for speed in the apply loop.
VPC, SUBNET, PORT, NEIGHBOR, SECURITYGROUP, DHCP, ROUTER, GATEWAY = range(8)
KIND_NAMES = [k.name for k in schema.ResourceType]
L3 = schema.NeighborType.L3.value

_SMALL_INTS: dict[int, int] = {}


def intern_int(n: int) -> int:
    """Share int objects (tunnel ids) across the many neighbors that carry them."""
    return _SMALL_INTS.setdefault(n, n)


def ip_to_int(ip: str) -> int:
    """Pack a dotted-quad IPv4 string into an int (raises OSError if it is not one)."""
    return int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")


def int_to_ip(n: int) -> str:
    """Unpack an int into a dotted-quad IPv4 string."""
    return socket.inet_ntop(socket.AF_INET, n.to_bytes(4, "big"))


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

    __slots__ = ("id", "revision", "vpc_id", "name", "_mac", "host_ip", "host_mac", "pairs",
                 "_type", "_subnet", "_ip", "_tunnel", "_router", "_extra")

    def __init__(self, nid: str, revision: int, vpc_id: str, name: str, mac: str,
                 host_ip: str, host_mac: str, fixed_ips: tuple[FixedIp, ...],
                 pairs: tuple[tuple[str, str], ...]) -> None:
        self.id = nid
        self.revision = revision
        self.vpc_id = vpc_id
        self.name = name
        self._mac = mac_to_int(mac)
        self.host_ip = host_ip
        self.host_mac = host_mac
        self.pairs = pairs
        self.fixed_ips = fixed_ips

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
        if not value:
            self._type = self._subnet = self._ip = self._tunnel = self._router = None
            self._extra: tuple[FixedIp, ...] = ()
            return
        t, s, ip, tid, r = value[0]
        self._type, self._subnet, self._ip, self._tunnel, self._router = (
            t, s, ip_to_int(ip), tid, r)
        self._extra = tuple(value[1:])

    def arp_keys(self) -> Iterator[tuple[int, int]]:
        """Yield (ip as int, tunnel_id) of every fixed IP."""
        if self._ip is not None:
            yield self._ip, self._tunnel
        for _, _, ip, tid, _ in self._extra:
            yield ip_to_int(ip), tid

    def to_json(self, own_ip: str) -> dict[str, Any]:
        """Return the neighbor with §1 field names plus its programming details."""
        return {
            "revision_number": self.revision, "id": self.id, "vpc_id": self.vpc_id,
            "name": self.name, "mac_address": self.mac, "host_mac_address": self.host_mac,
            "host_ip_address": self.host_ip, "local": self.host_ip == own_ip,
            "fixed_ips": [{
                "neighbor_type": schema.NeighborType(t).name, "subnet_id": s, "ip_address": ip,
                "tunnel_id": tid, "router_id": r, "l3_deferred": t == L3 and r is None,
            } for t, s, ip, tid, r in self.fixed_ips],
            "allow_address_pairs": [{"ip_address": i, "mac_address": m} for i, m in self.pairs],
        }


class GatewayArp:
    """An ARP entry for a subnet gateway IP, filled from a router's subnet."""

    __slots__ = ("mac", "host_ip", "port_id", "router_id")

    def __init__(self, mac: str, host_ip: str, router_id: str) -> None:
        self.mac = mac
        self.host_ip = host_ip
        self.port_id = ""
        self.router_id = router_id


class AgentState:
    """Every table of one agent; mutated only by alcor.agent.apply."""

    def __init__(self, own_ip: str, *, tomb_ttl_s: float = 86400.0, tomb_cap: int = 1_000_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.own_ip = own_ip
        self.tomb_ttl_s = tomb_ttl_s
        self.tomb_cap = tomb_cap
        self._clock = clock
        self.vpcs: dict[str, dict[str, Any]] = {}
        self.subnets: dict[str, dict[str, Any]] = {}
        self.ports: dict[str, dict[str, Any]] = {}
        self.routers: dict[str, dict[str, Any]] = {}
        self.security_groups: dict[str, dict[str, Any]] = {}
        self.gateways: dict[str, dict[str, Any]] = {}
        self.neighbors: dict[str, Neighbor] = {}
        # tunnel_id -> ip (as int) -> entry: nested, and int keys, to keep entries small.
        self.arp: dict[int, dict[int, Neighbor | GatewayArp]] = {}
        self.routes: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.host_dvr_mac: str | None = None  # sticky: the first one seen, as ACA
        self.subnet_router: dict[str, str] = {}
        self.deferred: dict[str, set[str]] = {}  # subnet id -> neighbor ids with L3 deferred
        self.sg_rules: dict[str, list[dict[str, Any]]] = {}
        self.dhcp: dict[str, dict[str, Any]] = {}  # MAC -> entry
        self.dhcp_by_id: dict[str, tuple[int, str]] = {}  # port id -> (revision, MAC)
        self.tomb: OrderedDict[tuple[int, str], tuple[int, float]] = OrderedDict()
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.plugged: set[str] = set()
        self.counters: Counter[str] = Counter()
        self.last_errors: deque[dict[str, Any]] = deque(maxlen=50)

    # ---- revision bookkeeping (§4.3) -------------------------------------------------

    def applied(self, kind: int, rid: str) -> int | None:
        """Return the revision applied for (kind, id), or None."""
        if kind == NEIGHBOR:
            n = self.neighbors.get(rid)
            return None if n is None else n.revision
        if kind == DHCP:
            d = self.dhcp_by_id.get(rid)
            return None if d is None else d[0]
        cfg = self.table(kind).get(rid)
        return None if cfg is None else cfg.get("revision_number", 0)

    def tomb_rev(self, kind: int, rid: str) -> int | None:
        """Return the live tombstone revision of (kind, id), dropping an expired one."""
        if not self.tomb:
            return None
        entry = self.tomb.get((kind, rid))
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self.tomb[(kind, rid)]
            return None
        return entry[0]

    def accepts(self, kind: int, rid: str, rev: int, delete: bool) -> bool:
        """Tell whether a state at `rev` may be applied (§4.3); False means OUT_OF_ORDER."""
        applied = self.applied(kind, rid)
        tomb = self.tomb_rev(kind, rid)
        if delete:
            return (applied is None or rev >= applied) and (tomb is None or rev >= tomb)
        return (applied is None or rev > applied) and (tomb is None or rev >= tomb)

    def bury(self, kind: int, rid: str, rev: int) -> None:
        """Record a removal at `rev` (TTL + LRU cap)."""
        key = (kind, rid)
        self.tomb[key] = (rev, self._clock() + self.tomb_ttl_s)
        self.tomb.move_to_end(key)
        while len(self.tomb) > self.tomb_cap:
            self.tomb.popitem(last=False)

    def unbury(self, kind: int, rid: str) -> None:
        """Drop the tombstone of a re-applied resource."""
        if self.tomb:
            self.tomb.pop((kind, rid), None)

    def table(self, kind: int) -> dict[str, Any]:
        """Return the id-keyed table of a stored kind."""
        return {VPC: self.vpcs, SUBNET: self.subnets, PORT: self.ports,
                ROUTER: self.routers, SECURITYGROUP: self.security_groups,
                GATEWAY: self.gateways, NEIGHBOR: self.neighbors}[kind]

    # ---- ARP -------------------------------------------------------------------------

    def arp_lookup(self, ip: str, tunnel_id: int) -> Neighbor | GatewayArp | None:
        """Return the ARP entry for (ip, tunnel_id), or None."""
        by_ip = self.arp.get(tunnel_id)
        if by_ip is None:
            return None
        try:
            return by_ip.get(ip_to_int(ip))
        except OSError:
            return None

    def arp_put(self, ip: int, tunnel_id: int, entry: Neighbor | GatewayArp) -> None:
        """Add or replace the ARP entry of (ip as int, tunnel_id)."""
        by_ip = self.arp.get(tunnel_id)
        if by_ip is None:
            by_ip = self.arp[intern_int(tunnel_id)] = {}
        by_ip[ip] = entry

    def arp_drop(self, ip: int, tunnel_id: int, owner: object) -> None:
        """Remove the ARP entry of (ip as int, tunnel_id) if `owner` still holds it."""
        by_ip = self.arp.get(tunnel_id)
        if by_ip is not None and by_ip.get(ip) is owner:
            del by_ip[ip]
            if not by_ip:
                del self.arp[tunnel_id]

    def iter_arp(self) -> Iterator[tuple[int, int, Neighbor | GatewayArp]]:
        """Yield (ip as int, tunnel_id, entry) for every ARP entry."""
        for tid, by_ip in self.arp.items():
            for ip, entry in by_ip.items():
                yield ip, tid, entry

    # ---- derived views ---------------------------------------------------------------

    def gateway_groups(self) -> dict[int, dict[str, Any]]:
        """Return the ZETA select group per VNI for VPCs with local ports (as ACA builds)."""
        groups: dict[int, dict[str, Any]] = {}
        local_vpcs = {p.get("vpc_id", "") for p in self.ports.values()}
        for vpc_id in local_vpcs:
            vpc = self.vpcs.get(vpc_id)
            if vpc is None:
                continue
            for gw_id in vpc.get("gateway_ids", []):
                gw = self.gateways.get(gw_id)
                if gw is None or gw.get("gateway_type", 0) != schema.GatewayType.ZETA:
                    continue
                groups[vpc.get("tunnel_id", 0)] = {
                    "gateway_id": gw_id,
                    "destinations": [{"ip_address": d.get("ip_address", ""),
                                      "mac_address": d.get("mac_address", "")}
                                     for d in gw.get("destinations", [])],
                    "oam_port": gw.get("zeta_info", {}).get("port_inband_operation", 0),
                }
        return groups

    def to_json(self) -> dict[str, Any]:
        """Return every table as JSON-ready data with §1 field names, plus counters."""
        c = schema
        now = self._clock()
        applied: dict[str, dict[str, int]] = {}
        for kind in (VPC, SUBNET, PORT, ROUTER, SECURITYGROUP, GATEWAY, NEIGHBOR):
            applied[KIND_NAMES[kind]] = {rid: self.applied(kind, rid) or 0
                                         for rid in self.table(kind)}
        applied[KIND_NAMES[DHCP]] = {rid: rev for rid, (rev, _) in self.dhcp_by_id.items()}
        tomb: dict[str, dict[str, int]] = {}
        for (kind, rid), (rev, expires) in self.tomb.items():
            if expires > now:
                tomb.setdefault(KIND_NAMES[kind], {})[rid] = rev
        return {
            "ip": self.own_ip,
            "vpcs": {k: wire.to_json(c.VpcConfiguration, v) for k, v in self.vpcs.items()},
            "subnets": {k: wire.to_json(c.SubnetConfiguration, v)
                        for k, v in self.subnets.items()},
            "ports": {k: wire.to_json(c.PortConfiguration, v) for k, v in self.ports.items()},
            "routers": {k: wire.to_json(c.RouterConfiguration, v)
                        for k, v in self.routers.items()},
            "security_groups": {k: wire.to_json(c.SecurityGroupConfiguration, v)
                                for k, v in self.security_groups.items()},
            "gateways": {k: wire.to_json(c.GatewayConfiguration, v)
                         for k, v in self.gateways.items()},
            "neighbors": {k: n.to_json(self.own_ip) for k, n in self.neighbors.items()},
            "arp": [{"ip": int_to_ip(ip), "tunnel_id": tid, "mac": e.mac, "host_ip": e.host_ip,
                     "port_id": e.port_id} for ip, tid, e in self.iter_arp()],
            "routes": [{"router_id": r, "subnet_id": s, "host_dvr_mac_address": self.host_dvr_mac,
                        "routing_rules": [wire.to_json(c.RouterConfigurationRoutingRule, x)
                                          for x in rules]}
                       for (r, s), rules in self.routes.items()],
            "sg_rules": {k: [wire.to_json(c.SecurityGroupConfigurationSecurityGroupRule, r)
                             for r in rules] for k, rules in self.sg_rules.items()},
            "dhcp": self.dhcp,
            "gateway_groups": {str(k): v for k, v in self.gateway_groups().items()},
            "applied": applied,
            "tomb": tomb,
            "subscriptions": self.subscriptions,
            "counters": dict(self.counters),
            "last_errors": list(self.last_errors),
        }


def share(s: str) -> str:
    """Intern a string repeated across many records (subnet, VPC, host IP/MAC ids)."""
    return sys.intern(s)
