"""Validate and program each kind of state into an AgentState, as ACA does (spec §7)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from typing import Any

from alcor.proto import schema

from .records import (
    DHCP,
    FLOATINGIP,
    GATEWAY,
    L3,
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
    address,
    intern_int,
    share,
)
from .state import AgentState

SUCCESS, FAILURE, INVALID_ARG, PENDING, OUT_OF_ORDER = range(5)
INFO, CREATE, UPDATE, GET, DELETE = range(5)
FULL = int(schema.UpdateType.FULL)
VLAN = int(schema.NetworkType.VLAN)
ZETA = int(schema.GatewayType.ZETA)

_MAC = re.compile(r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}")
_now = time.perf_counter_ns


ACL_PROTOCOLS = frozenset({"tcp", "udp", "icmp", "icmpv6", "all"})
QOS_RULE_TYPES = frozenset(
    {"bandwidth_limit", "dscp_marking", "minimum_bandwidth", "minimum_packet_rate"}
)
QOS_DIRECTIONS = frozenset({"", "egress", "ingress", "any"})


class Invalid(Exception):
    """A state failed validation (→ INVALID_ARG, not applied)."""


def is_mac(s: str) -> bool:
    """Tell whether `s` is a colon-separated 48-bit MAC."""
    return len(s) == 17 and _MAC.fullmatch(s) is not None


def is_ipv4(s: str) -> bool:
    """Tell whether `s` is a dotted-quad IPv4 address (inet_pton, as ACA checks)."""
    try:
        socket.inet_pton(socket.AF_INET, s)
    except (OSError, ValueError):  # ValueError: embedded NUL
        return False
    return True


def is_ipv6(s: str) -> bool:
    """Tell whether `s` is an IPv6 address (inet_pton)."""
    try:
        socket.inet_pton(socket.AF_INET6, s)
    except (OSError, ValueError):
        return False
    return True


def is_ip(s: str) -> bool:
    """Tell whether `s` is an IPv4 or IPv6 address."""
    return is_ipv6(s) if ":" in s else is_ipv4(s)


def is_ip_or_prefix(s: str) -> bool:
    """Tell whether `s` is an address or a prefix (an allowed address pair may be either)."""
    ip, slash, length = s.partition("/")
    if not slash:
        return is_ip(ip)
    top = 128 if ":" in ip else 32
    return is_ip(ip) and length.isdigit() and int(length) <= top


class Programmer:
    """Per-kind checks and table updates; put() raises Invalid, delete() never fails."""

    def __init__(self, state: AgentState, pending_until_plug: bool = False) -> None:
        self.state = state
        self.pending_until_plug = pending_until_plug
        self.put: dict[int, Callable[[int, dict[str, Any], int], int]] = {
            VPC: self._put_vpc,
            SUBNET: self._put_subnet,
            SECURITYGROUP: self._put_sg,
            GATEWAY: self._put_gateway,
            ROUTER: self._put_router,
            PORT: self._put_port,
            NEIGHBOR: self._put_neighbor,
            DHCP: self._put_dhcp,
            NETWORK_ACL: self._put_acl,
            FLOATINGIP: self._put_fip,
            QOS_POLICY: self._put_qos,
            PORT_FORWARDING: self._put_pf,
        }
        self.delete: dict[int, Callable[[str, dict[str, Any]], None]] = {
            VPC: self._del_vpc,
            SUBNET: self._del_subnet,
            SECURITYGROUP: self._del_sg,
            GATEWAY: self._del_gateway,
            ROUTER: self._del_router,
            PORT: self._del_port,
            NEIGHBOR: self._del_neighbor,
            DHCP: self._del_dhcp,
            NETWORK_ACL: self._del_acl,
            FLOATINGIP: self._del_fip,
            QOS_POLICY: self._del_qos,
            PORT_FORWARDING: self._del_pf,
        }

    # Each _put_* handler calls _mark() where validation ends and programming begins, so
    # the reply can split network_configuration_time from dataplane_programming_time.
    validated_at = 0

    def _mark(self) -> None:
        """Note the end of validation."""
        self.validated_at = _now()

    # ---- lookups ---------------------------------------------------------------------

    def _subnet(self, subnet_id: str) -> dict[str, Any]:
        """Return the stored subnet (the message's copy was stored first, if accepted)."""
        subnet = self.state.subnets.get(subnet_id)
        if subnet is None:
            raise Invalid(f"subnet {subnet_id!r} not found")
        return subnet

    def _checked_subnet(self, subnet_id: str) -> dict[str, Any]:
        subnet = self._subnet(subnet_id)
        tid = subnet.get("tunnel_id", 0)
        top = 4094 if subnet.get("network_type", 0) == VLAN else 16777215
        if not 1 <= tid <= top:
            raise Invalid(f"subnet {subnet_id} tunnel_id {tid} out of range")
        if "/" not in subnet.get("cidr", ""):
            raise Invalid(f"subnet {subnet_id} cidr {subnet.get('cidr', '')!r} has no '/'")
        return subnet

    # ---- context kinds ---------------------------------------------------------------

    def _put_vpc(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        self._mark()
        self.state.vpcs[cfg.get("id", "")] = cfg
        return SUCCESS

    def _put_subnet(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        self._mark()
        self.state.subnets[cfg.get("id", "")] = cfg
        return SUCCESS

    def _put_sg(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        self._mark()
        rules = cfg.get("security_group_rules", [])
        self.state.security_groups[cfg.get("id", "")] = cfg
        self.state.sg_rules[cfg.get("id", "")] = rules
        return SUCCESS

    def _put_gateway(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        if cfg.get("gateway_type", 0) == ZETA:
            dests = cfg.get("destinations", [])
            if not dests:
                raise Invalid("ZETA gateway without destinations")
            for d in dests:
                if not is_ipv4(d.get("ip_address", "")) or not is_mac(d.get("mac_address", "")):
                    raise Invalid(f"ZETA destination {d} needs a valid IP and MAC")
            if "zeta_info" not in cfg:
                raise Invalid("ZETA gateway without zeta_info")
        self._mark()
        self.state.gateways[cfg.get("id", "")] = cfg
        return SUCCESS

    def _del_vpc(self, rid: str, cfg: dict[str, Any]) -> None:
        self.state.vpcs.pop(rid, None)

    def _del_subnet(self, rid: str, cfg: dict[str, Any]) -> None:
        self.state.subnets.pop(rid, None)

    def _del_gateway(self, rid: str, cfg: dict[str, Any]) -> None:
        self.state.gateways.pop(rid, None)

    def _del_port(self, rid: str, cfg: dict[str, Any]) -> None:
        self.state.ports.pop(rid, None)
        self.state.plugged.discard(rid)

    def _del_sg(self, rid: str, cfg: dict[str, Any]) -> None:
        self.state.security_groups.pop(rid, None)
        self.state.sg_rules.pop(rid, None)

    # ---- routers ---------------------------------------------------------------------

    def _put_router(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        st = self.state
        rid = cfg.get("id", "")
        if rev < 1:
            raise Invalid("revision_number must be >= 1")
        dvr = cfg.get("host_dvr_mac_address", "")
        if not is_mac(dvr):
            raise Invalid(f"invalid host_dvr_mac_address {dvr!r}")
        if st.host_dvr_mac is not None and dvr.lower() != st.host_dvr_mac.lower():
            raise Invalid(
                f"host_dvr_mac_address {dvr} differs from the first seen {st.host_dvr_mac}"
            )
        tables = cfg.get("subnet_routing_tables", [])
        for table in tables:
            subnet = self._checked_subnet(table.get("subnet_id", ""))
            gw = subnet.get("gateway", {})
            if not is_ip(gw.get("ip_address", "")) or not is_mac(gw.get("mac_address", "")):
                raise Invalid(f"subnet {subnet.get('id')} has no valid gateway IP/MAC")
        self._mark()
        st.host_dvr_mac = st.host_dvr_mac or dvr
        old = st.routers.get(rid)
        if old is not None and cfg.get("update_type", 0) != FULL:
            # DELTA merges: tables not named in the message stay.
            named = {t.get("subnet_id", "") for t in tables}
            kept = [
                t
                for t in old.get("subnet_routing_tables", [])
                if t.get("subnet_id", "") not in named
            ]
            cfg = {**cfg, "subnet_routing_tables": kept + tables}
        else:
            self._unroute(rid)
        st.routers[rid] = cfg
        for table in cfg.get("subnet_routing_tables", []):
            self._route(rid, table)
        return SUCCESS

    def _route(self, router_id: str, table: dict[str, Any]) -> None:
        st = self.state
        sid = table.get("subnet_id", "")
        st.routes[(router_id, sid)] = table.get("routing_rules", [])
        st.subnet_router[sid] = router_id
        subnet = st.subnets[sid]
        gw = subnet.get("gateway", {})
        # The gateway answers ARP (IPv4) or neighbor discovery (IPv6) on the host.
        family, ip = address(gw.get("ip_address", ""))
        st.put(
            family,
            ip,
            subnet.get("tunnel_id", 0),
            GatewayArp(gw.get("mac_address", ""), st.own_ip, router_id),
        )
        # Neighbors whose L3 part waited for a router owning this subnet get it now.
        for nid in st.deferred.pop(sid, ()):
            n = st.neighbors.get(nid)
            if n is not None:
                n.fixed_ips = tuple(
                    (t, s, ip, tid, router_id if t == L3 and s == sid else r)
                    for t, s, ip, tid, r in n.fixed_ips
                )

    def _unroute(self, router_id: str) -> None:
        st = self.state
        keys = [k for k in st.routes if k[0] == router_id]
        if not keys:
            return
        for family, entries in ((V4, st.iter_arp()), (V6, st.iter_nd())):
            for ip, tid, entry in list(entries):
                if isinstance(entry, GatewayArp) and entry.router_id == router_id:
                    st.drop(family, ip, tid, entry)
        for key in keys:
            del st.routes[key]
            if st.subnet_router.get(key[1]) == router_id:
                del st.subnet_router[key[1]]
        self._defer_l3(router_id)

    def _defer_l3(self, router_id: str) -> None:
        """Downgrade L3 fixed IPs programmed through `router_id` to deferred (L2 only)."""
        st = self.state
        for n in st.neighbors.values():
            if any(r == router_id for *_, r in n.fixed_ips):
                n.fixed_ips = tuple(
                    (t, s, ip, tid, None if r == router_id else r)
                    for t, s, ip, tid, r in n.fixed_ips
                )
                for t, s, _, _, r in n.fixed_ips:
                    if t == L3 and r is None:
                        st.deferred.setdefault(s, set()).add(n.id)

    def _del_router(self, rid: str, cfg: dict[str, Any]) -> None:
        self._unroute(rid)
        self.state.routers.pop(rid, None)

    # ---- ports -----------------------------------------------------------------------

    def _put_port(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        rid = cfg.get("id", "")
        if op in (INFO, GET):
            raise Invalid(f"port operation {schema.OperationType(op).name} is not supported")
        if rev < 1:
            raise Invalid("revision_number must be >= 1")
        if not rid:
            raise Invalid("empty port id")
        if not cfg.get("admin_state_up", False):
            raise Invalid("admin_state_up must be true")
        fixed_ips = cfg.get("fixed_ips", [])
        if not fixed_ips:
            raise Invalid("a port needs at least one fixed IP")
        for fip in fixed_ips:
            self._checked_subnet(fip.get("subnet_id", ""))
        if op == CREATE:
            if cfg.get("update_type", 0) != FULL:
                raise Invalid("port CREATE needs update_type FULL")
            # Dual-stack: ACA needs an IPv4 first fixed IP; the reference agent takes either.
            if not is_ip(fixed_ips[0].get("ip_address", "")):
                raise Invalid(f"fixed_ips[0] {fixed_ips[0].get('ip_address')!r} is not an IP")
            if not is_mac(cfg.get("mac_address", "")):
                raise Invalid(f"invalid mac_address {cfg.get('mac_address')!r}")
        elif cfg.get("device_id") or cfg.get("device_owner"):
            raise Invalid("port UPDATE is only supported as a delete (empty device_id/owner)")
        _check_trunk(cfg.get("trunk"))
        self._mark()
        if op == UPDATE:
            # ACA treats an UPDATE as a delete of the port.
            self.state.ports.pop(rid, None)
            self.state.bury(PORT, rid, rev)
            return SUCCESS
        if self.pending_until_plug and rid not in self.state.plugged:
            return PENDING
        self.state.ports[rid] = cfg
        # Wall clock, so a benchmark can compare it with the API response time.
        self.state.port_programmed_at[rid] = time.time()
        return SUCCESS

    # ---- neighbors -------------------------------------------------------------------

    def _put_neighbor(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        st = self.state
        if rev < 1:
            raise Invalid("revision_number must be >= 1")
        mac = cfg.get("mac_address", "")
        if not is_mac(mac):
            raise Invalid(f"invalid mac_address {mac!r}")
        host_ip = cfg.get("host_ip_address", "")
        if not is_ipv4(host_ip):
            raise Invalid(f"invalid host_ip_address {host_ip!r}")
        fixed = []
        for fip in cfg.get("fixed_ips", []):
            ip = fip.get("ip_address", "")
            if not is_ip(ip):
                raise Invalid(f"fixed IP {ip!r} is not an IPv4 or IPv6 address")
            sid = fip.get("subnet_id", "")
            subnet = self._subnet(sid)
            tid = fip.get("tunnel_id", 0) or subnet.get("tunnel_id", 0)
            ntype = fip.get("neighbor_type", 0)
            router = st.subnet_router.get(sid) if ntype == L3 else None
            fixed.append((ntype, share(sid), ip, intern_int(tid), router))
        pairs = cfg.get("allow_address_pairs", ())
        for pair in pairs:
            pair_mac = pair.get("mac_address", "")
            if not is_ip_or_prefix(pair.get("ip_address", "")) or (
                pair_mac and not is_mac(pair_mac)
            ):
                raise Invalid(f"invalid allowed address pair {pair}")
        self._mark()
        nid = cfg.get("id", "")
        self._del_neighbor(nid, cfg)
        n = Neighbor(
            nid,
            rev,
            share(cfg.get("vpc_id", "")),
            cfg.get("name", ""),
            mac,
            share(host_ip),
            share(cfg.get("host_mac_address", "")),
            tuple(fixed),
            tuple((p.get("ip_address", ""), p.get("mac_address", "")) for p in pairs),
            tuple(share(g) for g in cfg.get("security_group_ids", ())),
        )
        st.neighbors[nid] = n
        for family, ip, tid, entry in n.entries():
            st.put(family, ip, tid, entry)
        for ntype, sid, _, _, router in fixed:
            # An L3 fixed IP without a local router is programmed as L2 only (ACA: ENOENT).
            if ntype == L3 and router is None:
                st.deferred.setdefault(sid, set()).add(nid)
        return SUCCESS

    def _del_neighbor(self, rid: str, cfg: dict[str, Any]) -> None:
        st = self.state
        old = st.neighbors.pop(rid, None)
        if old is None:
            return
        for family, ip, tid, entry in old.entries():
            st.drop(family, ip, tid, entry)
        for ntype, sid, _, _, router in old.fixed_ips:
            if ntype == L3 and router is None:
                waiting = st.deferred.get(sid)
                if waiting is not None:
                    waiting.discard(rid)
                    if not waiting:
                        del st.deferred[sid]

    # ---- DHCP ------------------------------------------------------------------------

    def _put_dhcp(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        if op not in (CREATE, UPDATE):
            raise Invalid(f"DHCP operation {schema.OperationType(op).name} is not supported")
        self._subnet(cfg.get("subnet_id", ""))
        mac = cfg.get("mac_address", "")
        if not is_mac(mac):
            raise Invalid(f"invalid mac_address {mac!r}")
        ipv4, ipv6 = cfg.get("ipv4_address", ""), cfg.get("ipv6_address", "")
        if (ipv4 and not is_ipv4(ipv4)) or (ipv6 and not is_ipv6(ipv6)) or not (ipv4 or ipv6):
            raise Invalid(f"invalid DHCP addresses ipv4 {ipv4!r} ipv6 {ipv6!r}")
        self._mark()
        rid = cfg.get("id", "")
        self._del_dhcp(rid, cfg)
        self.state.dhcp[mac] = {
            "id": rid,
            "ipv4": cfg.get("ipv4_address", ""),
            "ipv6": cfg.get("ipv6_address", ""),
            "subnet_id": cfg.get("subnet_id", ""),
            "hostname": cfg.get("port_host_name", ""),
            "extra_dhcp_options": [
                {
                    "name": o.get("name", ""),
                    "value": o.get("value", ""),
                    "ip_version": o.get("ip_version", 0) or 4,
                }
                for o in cfg.get("extra_dhcp_options", ())
            ],
            "revision_number": rev,
        }
        self.state.dhcp_by_id[rid] = (rev, mac)
        return SUCCESS

    def _del_dhcp(self, rid: str, cfg: dict[str, Any]) -> None:
        old = self.state.dhcp_by_id.pop(rid, None)
        if old is not None and self.state.dhcp.get(old[1], {}).get("id") == rid:
            del self.state.dhcp[old[1]]

    # ---- alcor extensions: network ACLs and floating IPs ------------------------------

    def _put_acl(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        if rev < 1:
            raise Invalid("revision_number must be >= 1")
        for rule in cfg.get("rules", ()):
            prefix = rule.get("ip_prefix", "")
            if not is_ip_or_prefix(prefix):
                raise Invalid(f"ACL rule {rule.get('id')} has an invalid ip_prefix {prefix!r}")
            if rule.get("protocol", "all") not in ACL_PROTOCOLS:
                raise Invalid(f"ACL rule {rule.get('id')} has protocol {rule.get('protocol')!r}")
        self._mark()
        self.state.network_acls[cfg.get("id", "")] = cfg
        return SUCCESS

    def _del_acl(self, rid: str, cfg: dict[str, Any]) -> None:
        self.state.network_acls.pop(rid, None)

    def _put_fip(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        if rev < 1:
            raise Invalid("revision_number must be >= 1")
        for name in ("floating_ip_address", "fixed_ip_address"):
            if not is_ip(cfg.get(name, "")):
                raise Invalid(f"floating IP {name} {cfg.get(name)!r} is not an address")
        if not cfg.get("port_id"):
            raise Invalid("floating IP without port_id")
        self._mark()
        self.state.floating_ips[cfg.get("id", "")] = cfg
        return SUCCESS

    def _del_fip(self, rid: str, cfg: dict[str, Any]) -> None:
        self.state.floating_ips.pop(rid, None)

    def _put_qos(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        if rev < 1:
            raise Invalid("revision_number must be >= 1")
        for rule in cfg.get("rules", ()):
            if rule.get("type") not in QOS_RULE_TYPES:
                raise Invalid(f"QoS rule {rule.get('id')} has type {rule.get('type')!r}")
            if rule.get("direction", "") not in QOS_DIRECTIONS:
                raise Invalid(f"QoS rule {rule.get('id')} has direction {rule.get('direction')!r}")
            if rule.get("dscp_mark", 0) > 63:
                raise Invalid(f"QoS rule {rule.get('id')} has dscp_mark {rule.get('dscp_mark')}")
        self._mark()
        self.state.qos_policies[cfg.get("id", "")] = cfg
        return SUCCESS

    def _del_qos(self, rid: str, cfg: dict[str, Any]) -> None:
        self.state.qos_policies.pop(rid, None)

    def _put_pf(self, op: int, cfg: dict[str, Any], rev: int) -> int:
        if rev < 1:
            raise Invalid("revision_number must be >= 1")
        for name in ("floating_ip_address", "internal_ip_address"):
            if not is_ip(cfg.get(name, "")):
                raise Invalid(f"port forwarding {name} {cfg.get(name)!r} is not an address")
        if cfg.get("protocol") not in ("tcp", "udp"):
            raise Invalid(f"port forwarding protocol {cfg.get('protocol')!r} is not tcp or udp")
        ext = (cfg.get("external_port_min", 0), cfg.get("external_port_max", 0))
        inner = (cfg.get("internal_port_min", 0), cfg.get("internal_port_max", 0))
        if not (1 <= ext[0] <= ext[1] <= 65535 and 1 <= inner[0] <= inner[1] <= 65535):
            raise Invalid(f"port forwarding ranges {ext} -> {inner} are not port ranges")
        if inner[1] - inner[0] not in (0, ext[1] - ext[0]):
            raise Invalid("port forwarding internal range is neither one port nor as wide")
        self._mark()
        self.state.port_forwardings[cfg.get("id", "")] = cfg
        return SUCCESS

    def _del_pf(self, rid: str, cfg: dict[str, Any]) -> None:
        self.state.port_forwardings.pop(rid, None)


def _check_trunk(trunk: dict[str, Any] | None) -> None:
    """A subport rides a VLAN (1-4094) of its parent port's interface."""
    if trunk is None:
        return
    if not trunk.get("parent_port_id"):
        raise Invalid("trunk subport without parent_port_id")
    if trunk.get("segmentation_type") != "vlan":
        raise Invalid(f"trunk segmentation_type {trunk.get('segmentation_type')!r} is not vlan")
    if not 1 <= trunk.get("segmentation_id", 0) <= 4094:
        raise Invalid(f"trunk segmentation_id {trunk.get('segmentation_id')} out of 1-4094")
