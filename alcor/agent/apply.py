"""Apply one goal state to an AgentState and build the reply (spec §4.3, §7).

Pure and synchronous: bytes in, reply bytes out, so the gRPC servers and (later) the
Kafka consumer feed it alike. Order per message: context states (VPC, subnet, SG,
gateway) are stored first so later lookups see them; then ACA's order routers → ports →
neighbors → DHCP; context DELETEs last. Neighbor entries are decoded and applied one at
a time, so a million-neighbor message never exists as a million dicts.
"""

from __future__ import annotations

import logging
import random
import re
import socket
import time
from array import array
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from alcor.proto import schema
from alcor.southbound import wire
from alcor.southbound.encoding import V1_FIELD, V2_FIELD, varint

from .state import (
    DHCP,
    GATEWAY,
    KIND_NAMES,
    L3,
    NEIGHBOR,
    PORT,
    ROUTER,
    SECURITYGROUP,
    SUBNET,
    VPC,
    AgentState,
    GatewayArp,
    Neighbor,
    intern_int,
    ip_to_int,
    share,
)

_LOGGER = logging.getLogger(__name__)

SUCCESS, FAILURE, INVALID_ARG, PENDING, OUT_OF_ORDER = range(5)
INFO, CREATE, UPDATE, GET, DELETE = range(5)
FULL = schema.UpdateType.FULL.value
VLAN = schema.NetworkType.VLAN.value
ZETA = schema.GatewayType.ZETA.value
FORMAT_VERSION = 102

_MAC = re.compile(r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}")
_now = time.perf_counter_ns


CHUNK = 2048  # states applied between two yields of steps_v1/steps_v2


def drain(steps: Generator[None, None, bytes]) -> bytes:
    """Run a steps generator to its end and return its value (the reply)."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


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


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    """Test and benchmark knobs of the reference agent."""

    pending_until_plug: bool = False
    fail_rate: float = 0.0
    seed: int | None = None


class ReplyBuilder:
    """Append GoalStateOperationStatus entries as bytes while applying."""

    def __init__(self) -> None:
        self._buf = bytearray(b"\x08" + varint(FORMAT_VERSION))
        self._heads: dict[tuple[int, int, int], bytes] = {}
        self.count = 0

    def add(self, rid: str, kind: int, op: int, status: int, nc_us: int, dp_us: int) -> None:
        """Add one status; times in µs."""
        r = rid.encode()
        head = self._heads.get((kind, op, status))
        if head is None:
            head = self._heads[(kind, op, status)] = b"".join(
                bytes((tag,)) + varint(v) for tag, v in ((0x10, kind), (0x18, op), (0x20, status))
                if v)
        body = b"\x0a" + varint(len(r)) + r + head
        if dp_us:
            body += b"\x28" + varint(min(dp_us, 0xFFFFFFFF))
        if nc_us:
            body += b"\x30" + varint(min(nc_us, 0xFFFFFFFF))
        if nc_us + dp_us:
            body += b"\x38" + varint(min(nc_us + dp_us, 0xFFFFFFFF))
        buf = self._buf
        buf.append(0x12)
        buf += varint(len(body))
        buf += body
        self.count += 1

    def finish(self, total_us: int) -> bytes:
        """Return the encoded GoalStateOperationReply."""
        if total_us:
            self._buf.append(0x18)
            self._buf += varint(min(total_us, 0xFFFFFFFF))
        return bytes(self._buf)


_V2_ENTRY = {n: wire.spec_of(schema.GoalStateV2)[n << 3 | 2].sub for n in V2_FIELD.values()}
_V1_STATE = {n: wire.spec_of(schema.GoalState)[n << 3 | 2].sub for n in V1_FIELD.values()}
_STAGE1 = (GATEWAY, VPC, SUBNET, SECURITYGROUP)  # context first, then ACA's order
_STAGE2 = (ROUTER, PORT)


class Applier:
    """Apply goal states to one AgentState."""

    def __init__(self, state: AgentState, options: ApplyOptions | None = None) -> None:
        self.state = state
        self.options = options or ApplyOptions()
        self._rng = random.Random(self.options.seed)
        self.last_states = 0  # states in the last message (for --apply-latency-us)
        self._apply: dict[int, Callable[[int, dict[str, Any], int], int]] = {
            VPC: self._put_vpc, SUBNET: self._put_subnet, SECURITYGROUP: self._put_sg,
            GATEWAY: self._put_gateway, ROUTER: self._put_router, PORT: self._put_port,
            NEIGHBOR: self._put_neighbor, DHCP: self._put_dhcp,
        }
        self._delete: dict[int, Callable[[str, dict[str, Any]], None]] = {
            VPC: self._del_vpc, SUBNET: self._del_subnet, SECURITYGROUP: self._del_sg,
            GATEWAY: self._del_gateway, ROUTER: self._del_router, PORT: self._del_port,
            NEIGHBOR: self._del_neighbor, DHCP: self._del_dhcp,
        }

    # ---- entry points ----------------------------------------------------------------

    def apply_v2(self, payload: bytes) -> bytes:
        """Apply a GoalStateV2 and return the encoded GoalStateOperationReply."""
        return drain(self.steps_v2(payload))

    def apply_v1(self, payload: bytes) -> bytes:
        """Apply a V1 GoalState (repeated states) and return the encoded reply."""
        return drain(self.steps_v1(payload))

    def steps_v2(self, payload: bytes) -> Generator[None, None, bytes]:
        """Apply a GoalStateV2 in steps of CHUNK states; the generator returns the reply.

        Lets an event loop that runs many agents breathe during a million-state message.
        """
        return self._run(payload, V2_FIELD, lambda n, s, e: wire.decode_span(
            payload, s, e, _V2_ENTRY[n]).get("value", {}))

    def steps_v1(self, payload: bytes) -> Generator[None, None, bytes]:
        """Apply a V1 GoalState in steps, like steps_v2."""
        return self._run(payload, V1_FIELD, lambda n, s, e: wire.decode_span(
            payload, s, e, _V1_STATE[n]))

    def _run(self, payload: bytes, fields: Any,
             decode: Callable[[int, int, int], dict[str, Any]]) -> Generator[None, None, bytes]:
        t0 = _now()
        kind_of = {n: k for k, n in fields.items()}
        spans: dict[int, array[int]] = {k: array("q") for k in kind_of.values()}
        for n, start, end in wire.spans(payload):
            kind = kind_of.get(n)
            if kind is not None:
                spans[kind].extend((n, start, end))
        reply = ReplyBuilder()
        deletes: list[tuple[int, dict[str, Any]]] = []
        for kind in (*_STAGE1, *_STAGE2, NEIGHBOR, DHCP):
            s = spans[kind]
            for i in range(0, len(s), 3):
                state = decode(s[i], s[i + 1], s[i + 2])
                if kind in _STAGE1 and state.get("operation_type", INFO) == DELETE:
                    deletes.append((kind, state))  # context leaves after its users
                else:
                    self._one(kind, state, reply)
                    if reply.count % CHUNK == 0:
                        yield
        for kind, state in deletes:
            self._one(kind, state, reply)
        self.state.counters["messages"] += 1
        self.last_states = reply.count
        return reply.finish((_now() - t0) // 1000)

    # ---- one state -------------------------------------------------------------------

    def _one(self, kind: int, state: dict[str, Any], reply: ReplyBuilder) -> None:
        t0 = _now()
        op = state.get("operation_type", INFO)
        cfg = state.get("configuration") or {}
        rid = cfg.get("id", "")
        rev = cfg.get("revision_number", 0)
        counters = self.state.counters
        t1 = t0
        if not self.state.accepts(kind, rid, rev, op == DELETE):
            status = OUT_OF_ORDER
        elif self.options.fail_rate and self._rng.random() < self.options.fail_rate:
            status = FAILURE
        elif op == DELETE:
            t1 = _now()
            self._delete[kind](rid, cfg)
            self.state.bury(kind, rid, rev)
            status = SUCCESS
        else:
            try:
                status = self._apply[kind](op, cfg, rev)
                t1 = self._validated_at
            except Invalid as exc:
                t1 = _now()
                status = INVALID_ARG
                self.state.last_errors.append(
                    {"kind": KIND_NAMES[kind], "id": rid, "revision": rev, "reason": str(exc)})
                _LOGGER.debug("%s %s rev %s invalid: %s", KIND_NAMES[kind], rid, rev, exc)
            if status == SUCCESS and self.state.applied(kind, rid) == rev:
                self.state.unbury(kind, rid)
        t2 = _now()
        counters[_COUNTER_KEYS[kind][status]] += 1
        reply.add(rid, kind, op, status, (t1 - t0) // 1000, (t2 - t1) // 1000)

    # Each _put_* handler calls _mark() where validation ends and programming begins, so
    # the reply can split network_configuration_time from dataplane_programming_time.
    _validated_at = 0

    def _mark(self) -> None:
        """Note the end of validation."""
        self._validated_at = _now()

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
            raise Invalid(f"host_dvr_mac_address {dvr} differs from the first seen "
                          f"{st.host_dvr_mac}")
        tables = cfg.get("subnet_routing_tables", [])
        for table in tables:
            subnet = self._checked_subnet(table.get("subnet_id", ""))
            gw = subnet.get("gateway", {})
            if not is_ipv4(gw.get("ip_address", "")) or not is_mac(gw.get("mac_address", "")):
                raise Invalid(f"subnet {subnet.get('id')} has no valid gateway IP/MAC")
        self._mark()
        st.host_dvr_mac = st.host_dvr_mac or dvr
        old = st.routers.get(rid)
        if old is not None and cfg.get("update_type", 0) != FULL:
            # DELTA merges: tables not named in the message stay.
            named = {t.get("subnet_id", "") for t in tables}
            kept = [t for t in old.get("subnet_routing_tables", [])
                    if t.get("subnet_id", "") not in named]
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
        st.arp_put(ip_to_int(gw.get("ip_address", "")), subnet.get("tunnel_id", 0),
                   GatewayArp(gw.get("mac_address", ""), st.own_ip, router_id))
        # Neighbors whose L3 part waited for a router owning this subnet get it now.
        for nid in st.deferred.pop(sid, ()):
            n = st.neighbors.get(nid)
            if n is not None:
                n.fixed_ips = tuple((t, s, ip, tid, router_id if t == L3 and s == sid else r)
                                    for t, s, ip, tid, r in n.fixed_ips)

    def _unroute(self, router_id: str) -> None:
        st = self.state
        keys = [k for k in st.routes if k[0] == router_id]
        if not keys:
            return
        for ip, tid, entry in list(st.iter_arp()):
            if isinstance(entry, GatewayArp) and entry.router_id == router_id:
                st.arp_drop(ip, tid, entry)
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
                n.fixed_ips = tuple((t, s, ip, tid, None if r == router_id else r)
                                    for t, s, ip, tid, r in n.fixed_ips)
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
            if not is_ipv4(fixed_ips[0].get("ip_address", "")):
                raise Invalid(f"fixed_ips[0] {fixed_ips[0].get('ip_address')!r} is not IPv4")
            if not is_mac(cfg.get("mac_address", "")):
                raise Invalid(f"invalid mac_address {cfg.get('mac_address')!r}")
        elif cfg.get("device_id") or cfg.get("device_owner"):
            raise Invalid("port UPDATE is only supported as a delete (empty device_id/owner)")
        self._mark()
        if op == UPDATE:
            # ACA treats an UPDATE as a delete of the port.
            self.state.ports.pop(rid, None)
            self.state.bury(PORT, rid, rev)
            return SUCCESS
        if self.options.pending_until_plug and rid not in self.state.plugged:
            return PENDING
        self.state.ports[rid] = cfg
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
            if not is_ipv4(ip):
                raise Invalid(f"fixed IP {ip!r} is not IPv4")
            sid = fip.get("subnet_id", "")
            subnet = self._subnet(sid)
            tid = fip.get("tunnel_id", 0) or subnet.get("tunnel_id", 0)
            ntype = fip.get("neighbor_type", 0)
            router = st.subnet_router.get(sid) if ntype == L3 else None
            fixed.append((ntype, share(sid), ip, intern_int(tid), router))
        self._mark()
        nid = cfg.get("id", "")
        self._del_neighbor(nid, cfg)
        n = Neighbor(nid, rev, share(cfg.get("vpc_id", "")), cfg.get("name", ""), mac,
                     share(host_ip), share(cfg.get("host_mac_address", "")), tuple(fixed),
                     tuple((p.get("ip_address", ""), p.get("mac_address", ""))
                           for p in cfg.get("allow_address_pairs", ())))
        st.neighbors[nid] = n
        for ip, tid in n.arp_keys():
            st.arp_put(ip, tid, n)
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
        for ip, tid in old.arp_keys():
            st.arp_drop(ip, tid, old)
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
        if not is_ipv4(cfg.get("ipv4_address", "")):
            raise Invalid(f"invalid ipv4_address {cfg.get('ipv4_address')!r}")
        self._mark()
        rid = cfg.get("id", "")
        self._del_dhcp(rid, cfg)
        self.state.dhcp[mac] = {
            "id": rid, "ipv4": cfg.get("ipv4_address", ""), "ipv6": cfg.get("ipv6_address", ""),
            "subnet_id": cfg.get("subnet_id", ""), "hostname": cfg.get("port_host_name", ""),
            "revision_number": rev,
        }
        self.state.dhcp_by_id[rid] = (rev, mac)
        return SUCCESS

    def _del_dhcp(self, rid: str, cfg: dict[str, Any]) -> None:
        old = self.state.dhcp_by_id.pop(rid, None)
        if old is not None and self.state.dhcp.get(old[1], {}).get("id") == rid:
            del self.state.dhcp[old[1]]


_COUNTER_KEYS = [[f"{k}:{s.name}" for s in schema.OperationStatus] for k in KIND_NAMES]
