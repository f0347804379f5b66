"""One reference agent's in-memory tables (spec §7) and its revision bookkeeping (§4.3)."""

from __future__ import annotations

import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any

from alcor.proto import schema
from alcor.southbound import wire

from .records import (
    DHCP,
    FLOATINGIP,
    GATEWAY,
    KIND_NAMES,
    NEIGHBOR,
    NETWORK_ACL,
    PORT,
    PORT_FORWARDING,
    QOS_POLICY,
    ROUTER,
    SECURITYGROUP,
    SUBNET,
    V4,
    V6,
    VPC,
    GatewayArp,
    Neighbor,
    PairEntry,
    address,
    int_to_ip,
    int_to_ip6,
    intern_int,
)

Entry = Neighbor | GatewayArp | PairEntry


def claimant(entry: Entry) -> tuple[str, str]:
    """Return who claims an address through `entry`: a port (its fixed IPs or address
    pairs) or a router (a gateway)."""
    if isinstance(entry, GatewayArp):
        return ("router", entry.router_id)
    if isinstance(entry, PairEntry):
        return ("port", entry.owner.id)
    return ("port", entry.id)


class AgentState:
    """Every table of one agent; mutated only by alcor.agent.apply."""

    def __init__(
        self,
        own_ip: str,
        *,
        tomb_ttl_s: float = 86400.0,
        tomb_cap: int = 1_000_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
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
        self.network_acls: dict[str, dict[str, Any]] = {}  # alcor extension: stateless ACLs
        self.floating_ips: dict[str, dict[str, Any]] = {}  # alcor extension: NAT
        self.qos_policies: dict[str, dict[str, Any]] = {}  # alcor extension: QoS
        self.port_forwardings: dict[str, dict[str, Any]] = {}  # alcor extension: DNAT
        self.neighbors: dict[str, Neighbor] = {}
        # tunnel_id -> ip (as int) -> entry: nested, and int keys, to keep entries small.
        self.arp: dict[int, dict[int, Entry]] = {}  # IPv4
        self.nd: dict[int, dict[int, Entry]] = {}  # IPv6 neighbor discovery
        # (family, tunnel_id, ip) -> earlier claimants of an address another entry took over
        # (a deleted port's neighbor replayed after the new owner of its IP, say): when the
        # newer one goes, the address answers for the one still held. Empty but for clashes.
        self.shadowed: dict[tuple[int, int, int], list[Entry]] = {}
        self.port_programmed_at: dict[str, float] = {}  # port id -> time.time() of last apply
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
        tables: dict[int, dict[str, Any]] = {
            VPC: self.vpcs,
            SUBNET: self.subnets,
            PORT: self.ports,
            ROUTER: self.routers,
            SECURITYGROUP: self.security_groups,
            GATEWAY: self.gateways,
            NEIGHBOR: self.neighbors,
            NETWORK_ACL: self.network_acls,
            FLOATINGIP: self.floating_ips,
            QOS_POLICY: self.qos_policies,
            PORT_FORWARDING: self.port_forwardings,
        }
        return tables[kind]

    # ---- ARP (IPv4) and neighbor discovery (IPv6) --------------------------------------

    def _table_of(self, family: int) -> dict[int, dict[int, Entry]]:
        return self.nd if family == V6 else self.arp

    def lookup(self, ip: str, tunnel_id: int) -> Entry | None:
        """Return the ARP (IPv4) or ND (IPv6) entry for (ip, tunnel_id), or None."""
        try:
            family, n = address(ip)
        except (OSError, ValueError):
            return None
        by_ip = self._table_of(family).get(tunnel_id)
        return None if by_ip is None else by_ip.get(n)

    def arp_lookup(self, ip: str, tunnel_id: int) -> Entry | None:
        """Return the entry for (ip, tunnel_id) from ARP or ND by the address family."""
        return self.lookup(ip, tunnel_id)

    def put(self, family: int, ip: int, tunnel_id: int, entry: Entry) -> None:
        """Add or replace the entry of (ip as int, tunnel_id) in the family's table."""
        table = self._table_of(family)
        by_ip = table.get(tunnel_id)
        if by_ip is None:
            by_ip = table[intern_int(tunnel_id)] = {}
        previous = by_ip.get(ip)
        clash = (family, tunnel_id, ip)
        if clash in self.shadowed:  # a claimant's new entry replaces its old one
            self._forget_claim(clash, claimant(entry))
        if previous is not None and claimant(previous) != claimant(entry):
            self.shadowed.setdefault(clash, []).append(previous)
        by_ip[ip] = entry

    def drop(self, family: int, ip: int, tunnel_id: int, owner: object) -> None:
        """Remove `owner`'s claim on (ip as int, tunnel_id); the address then answers for
        the latest earlier claimant still held, if any."""
        table = self._table_of(family)
        by_ip = table.get(tunnel_id)
        clash = (family, tunnel_id, ip)
        earlier = self.shadowed.get(clash)
        if by_ip is None or by_ip.get(ip) is not owner:
            if earlier is not None:  # a claim no longer visible goes quietly
                self._forget_claim(clash, None, owner)
            return
        if earlier:
            by_ip[ip] = earlier.pop()
            if not earlier:
                del self.shadowed[clash]
            return
        del by_ip[ip]
        if not by_ip:
            del table[tunnel_id]

    def _forget_claim(
        self, clash: tuple[int, int, int], who: tuple[str, str] | None, owner: object = None
    ) -> None:
        """Drop the shadowed entry `owner`, or every shadowed entry of claimant `who`."""
        earlier = self.shadowed[clash]
        kept = [e for e in earlier if e is not owner and (who is None or claimant(e) != who)]
        if kept:
            self.shadowed[clash] = kept
        else:
            del self.shadowed[clash]

    def arp_put(self, ip: int, tunnel_id: int, entry: Entry) -> None:
        """Add or replace an IPv4 ARP entry."""
        self.put(V4, ip, tunnel_id, entry)

    def arp_drop(self, ip: int, tunnel_id: int, owner: object) -> None:
        """Remove an IPv4 ARP entry if `owner` still holds it."""
        self.drop(V4, ip, tunnel_id, owner)

    def iter_arp(self) -> Iterator[tuple[int, int, Entry]]:
        """Yield (ip as int, tunnel_id, entry) for every ARP entry."""
        for tid, by_ip in self.arp.items():
            for ip, entry in by_ip.items():
                yield ip, tid, entry

    def iter_nd(self) -> Iterator[tuple[int, int, Entry]]:
        """Yield (ip as int, tunnel_id, entry) for every neighbor-discovery entry."""
        for tid, by_ip in self.nd.items():
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
                    "destinations": [
                        {
                            "ip_address": d.get("ip_address", ""),
                            "mac_address": d.get("mac_address", ""),
                        }
                        for d in gw.get("destinations", [])
                    ],
                    "oam_port": gw.get("zeta_info", {}).get("port_inband_operation", 0),
                }
        return groups

    def port_qos(self) -> dict[str, dict[str, str]]:
        """Return the QoS policy that applies to each local port, and where it comes from:
        the port's own, else its VPC's unless the port is network-owned (as Neutron)."""
        out: dict[str, dict[str, str]] = {}
        for port_id, cfg in self.ports.items():
            policy, source = cfg.get("qos_policy_id", ""), "port"
            if not policy and not cfg.get("device_owner", "").startswith("network:"):
                vpc = self.vpcs.get(cfg.get("vpc_id", "")) or {}
                policy, source = vpc.get("qos_policy_id", ""), "network"
            if policy:
                out[port_id] = {
                    "qos_policy_id": policy,
                    "source": source,
                    "held": "yes" if policy in self.qos_policies else "no",
                }
        return out

    def trunks(self) -> dict[str, list[dict[str, Any]]]:
        """Return the local subports per parent port: each a VLAN on the parent's interface."""
        out: dict[str, list[dict[str, Any]]] = {}
        for port_id, cfg in sorted(self.ports.items()):
            trunk = cfg.get("trunk")
            if trunk:
                out.setdefault(trunk.get("parent_port_id", ""), []).append(
                    {
                        "port_id": port_id,
                        "segmentation_type": trunk.get("segmentation_type", ""),
                        "segmentation_id": trunk.get("segmentation_id", 0),
                    }
                )
        return out

    def to_json(self) -> dict[str, Any]:
        """Return every table as JSON-ready data with §1 field names, plus counters."""
        c = schema
        now = self._clock()
        applied: dict[str, dict[str, int]] = {}
        for kind in (
            VPC,
            SUBNET,
            PORT,
            ROUTER,
            SECURITYGROUP,
            GATEWAY,
            NEIGHBOR,
            NETWORK_ACL,
            FLOATINGIP,
            QOS_POLICY,
            PORT_FORWARDING,
        ):
            applied[KIND_NAMES[kind]] = {
                rid: self.applied(kind, rid) or 0 for rid in self.table(kind)
            }
        applied[KIND_NAMES[DHCP]] = {rid: rev for rid, (rev, _) in self.dhcp_by_id.items()}
        tomb: dict[str, dict[str, int]] = {}
        for (kind, rid), (rev, expires) in self.tomb.items():
            if expires > now:
                tomb.setdefault(KIND_NAMES[kind], {})[rid] = rev
        return {
            "ip": self.own_ip,
            "vpcs": {k: wire.to_json(c.VpcConfiguration, v) for k, v in self.vpcs.items()},
            "subnets": {k: wire.to_json(c.SubnetConfiguration, v) for k, v in self.subnets.items()},
            "ports": {k: wire.to_json(c.PortConfiguration, v) for k, v in self.ports.items()},
            "routers": {k: wire.to_json(c.RouterConfiguration, v) for k, v in self.routers.items()},
            "security_groups": {
                k: wire.to_json(c.SecurityGroupConfiguration, v)
                for k, v in self.security_groups.items()
            },
            "gateways": {
                k: wire.to_json(c.GatewayConfiguration, v) for k, v in self.gateways.items()
            },
            "neighbors": {k: n.to_json(self.own_ip) for k, n in self.neighbors.items()},
            "network_acls": {
                k: wire.to_json(c.NetworkAclConfiguration, v) for k, v in self.network_acls.items()
            },
            "port_forwardings": {
                k: wire.to_json(c.PortForwardingConfiguration, v)
                for k, v in self.port_forwardings.items()
            },
            "floating_ips": {
                k: wire.to_json(c.FloatingIpConfiguration, v) for k, v in self.floating_ips.items()
            },
            "qos_policies": {
                k: wire.to_json(c.QosPolicyConfiguration, v) for k, v in self.qos_policies.items()
            },
            "port_qos": self.port_qos(),
            "trunks": self.trunks(),
            "arp": [_entry_json(int_to_ip(ip), tid, e) for ip, tid, e in self.iter_arp()],
            "nd": [_entry_json(int_to_ip6(ip), tid, e) for ip, tid, e in self.iter_nd()],
            "routes": [
                {
                    "router_id": r,
                    "subnet_id": s,
                    "host_dvr_mac_address": self.host_dvr_mac,
                    "routing_rules": [
                        wire.to_json(c.RouterConfigurationRoutingRule, x) for x in rules
                    ],
                }
                for (r, s), rules in self.routes.items()
            ],
            "sg_rules": {
                k: [wire.to_json(c.SecurityGroupConfigurationSecurityGroupRule, r) for r in rules]
                for k, rules in self.sg_rules.items()
            },
            "dhcp": self.dhcp,
            "gateway_groups": {str(k): v for k, v in self.gateway_groups().items()},
            "applied": applied,
            "tomb": tomb,
            "subscriptions": self.subscriptions,
            "counters": dict(self.counters),
            "port_programmed_at": dict(self.port_programmed_at),
            "last_errors": list(self.last_errors),
        }


def _entry_json(ip: str, tunnel_id: int, entry: Entry) -> dict[str, Any]:
    kind = (
        "pair"
        if isinstance(entry, PairEntry)
        else ("gateway" if isinstance(entry, GatewayArp) else "fixed")
    )
    return {
        "ip": ip,
        "tunnel_id": tunnel_id,
        "mac": entry.mac,
        "host_ip": entry.host_ip,
        "port_id": entry.port_id,
        "source": kind,
    }
