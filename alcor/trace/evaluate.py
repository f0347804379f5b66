"""A packet evaluator over host tables: where does a packet go, and what decides it.

Pure (no I/O, no clock): given every host's tables (`World`) and the first packet of a
flow, follow it the way the hosts would: egress security groups of the sending port
(stateful: a reply of an allowed flow is let through), the egress ACL of its subnet
(stateless, first match by number), L2 within a subnet or L3 through the router the host
holds, extra routes, SNAT out of a router's gateway or a port's floating IP, then on the
destination host the ingress ACL of its subnet and the ingress security groups of its port.
A floating IP from outside is translated (DNAT) on its port's host, a forwarded port of one
on its internal port's host. Every hop names the
object that decided it. Missing state is a drop with the reason, never a guess.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Collection, Iterable

from alcor.trace.model import (
    Acl,
    Gateway,
    Hop,
    HostTables,
    Packet,
    Port,
    SecurityGroup,
    Subnet,
    Trace,
    World,
)

_ICMP = frozenset({"icmp", "ipv6-icmp", "icmpv6", "1", "58"})
_NUMBERS = {"6": "tcp", "17": "udp"}
Flows = Collection[tuple[str, str, str]]  # (src, dst, protocol) of established flows


@functools.lru_cache(maxsize=65536)
def _network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr, strict=False)


@functools.lru_cache(maxsize=65536)
def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(ip)


def contains(cidr: str, ip: str) -> bool:
    """Tell whether `ip` lies in `cidr` (different families never match)."""
    net, addr = _network(cidr), _address(ip)
    return net.version == addr.version and addr in net


def ethertype(ip: str) -> str:
    """Return IPv4 or IPv6 for an address."""
    return "IPv6" if _address(ip).version == 6 else "IPv4"


def _protocol(name: str) -> str:
    name = (name or "any").lower()
    if name in _ICMP:
        return "icmp"
    return _NUMBERS.get(name, name)


def _ports_match(protocol: str, low: int, high: int, port: int) -> bool:
    if protocol not in ("tcp", "udp") or (not low and not high):
        return True
    return (low or 0) <= port <= (high or 65535)


def evaluate(world: World, packet: Packet, established: Flows = ()) -> Trace:
    """Follow one packet through the hosts' tables; return the verdict and the hops."""
    walk = _Walk(world, packet, established)
    if packet.src_port_id is not None:
        walk.from_port(packet.src_port_id)
    else:
        walk.dnat(packet)
    return walk.trace


def _own_subnet(tables: HostTables, port: Port, ip: str) -> Subnet | None:
    for subnet_id, address in port.fixed_ips:
        if address == ip:
            return tables.subnet(subnet_id)
    return None


class _Walk:
    """One packet's way through the world, hop by hop."""

    def __init__(self, world: World, packet: Packet, established: Flows) -> None:
        self.world = world
        self.packet = packet
        self.established = established
        self.trace = Trace()

    def hop(self, host: str, stage: str, detail: str, obj: str = "") -> None:
        self.trace.hops.append(Hop(host, stage, detail, obj))

    def drop(self, host: str, stage: str, reason: str, obj: str = "") -> None:
        self.hop(host, stage, reason, obj)
        self.trace.verdict, self.trace.reason = "dropped", reason

    def deliver(self, reason: str) -> None:
        self.trace.verdict, self.trace.reason = "delivered", reason

    # ---- the sending side ---------------------------------------------------------------

    def from_port(self, port_id: str) -> None:
        packet, world = self.packet, self.world
        host = world.host_of_port(port_id)
        tables = world.tables(host) if host else None
        if host is None or tables is None:
            self.drop("-", "binding", f"port {port_id} is not bound to a registered host")
            return
        port = tables.port(port_id)
        if port is None:
            self.drop(host, "port", f"port {port_id} is not programmed on {host}")
            return
        subnet = _own_subnet(tables, port, packet.src_ip)
        if subnet is None:
            self.drop(host, "port", f"{packet.src_ip} is not an address of port {port_id}")
            return
        self.hop(host, "port", f"from {packet.src_ip} on {port_id}", f"port:{port_id}")
        if port.security and not self.security_groups(
            tables, port, "egress", packet, packet.dst_ip, port.groups
        ):
            return
        if not self.acl(tables, subnet, "egress", packet, packet.dst_ip):
            return
        self.route(tables, port, subnet)

    def route(self, tables: HostTables, port: Port, subnet: Subnet) -> None:
        host, dst = tables.host, self.packet.dst_ip
        if self.world.floating_ip_host(dst) is not None:
            self.out_and_back(tables, port, subnet)
            return
        target = next(
            (s for s in tables.subnets_of_vpc(port.vpc_id) if contains(s.cidr, dst)), None
        )
        next_hop = dst
        if target is None or target.id != subnet.id:
            router = tables.router_of_subnet(subnet.id)
            if router is None:
                self.drop(host, "route", f"no router on {host} for subnet {subnet.id} to {dst}")
                return
            if target is not None and target.id in router.subnet_ids:
                self.hop(
                    host,
                    "route",
                    f"{subnet.cidr} -> {target.cidr} via router",
                    f"router:{router.id}",
                )
            else:
                route = next((r for r in router.routes if contains(r[0], dst)), None)
                if route is None:
                    self.leave(tables, port, router.id, router.gateway)
                    return
                self.hop(
                    host, "route", f"extra route {route[0]} via {route[1]}", f"router:{router.id}"
                )
                next_hop = route[1]
        neighbor = tables.neighbor(next_hop, subnet.tunnel_id)
        if neighbor is None:
            family = "ARP" if ethertype(next_hop) == "IPv4" else "neighbor-discovery"
            self.drop(host, "l2", f"no {family} entry for {next_hop} on {host}")
            return
        self.hop(
            host,
            "l2",
            f"{next_hop} is {neighbor.mac} on {neighbor.host_ip}",
            f"port:{neighbor.port_id}",
        )
        dest_host = self.world.host_of(neighbor.host_ip)
        dest = self.world.tables(dest_host) if dest_host else None
        if dest_host is None or dest is None:
            self.drop(
                host, "tunnel", f"no registered host has data-path address {neighbor.host_ip}"
            )
            return
        self.arrive(dest, neighbor.port_id, next_hop, self.packet.src_ip)

    def leave(
        self, tables: HostTables, port: Port, router_id: str, gateway: Gateway | None
    ) -> None:
        """A destination outside the VPC: out of the router's gateway, translated."""
        host, src = tables.host, self.packet.src_ip
        fips = tables.floating_ips_of_port(port.id)
        if fips:
            fip = fips[0]
            self.hop(host, "snat", f"{src} -> {fip.address} (floating IP)", f"floatingip:{fip.id}")
            self.deliver(f"leaves the VPC with floating IP {fip.address}")
            return
        if gateway is None or not gateway.ip:
            self.drop(
                host,
                "route",
                f"no route to {self.packet.dst_ip}: router has no gateway",
                f"router:{router_id}",
            )
            return
        if not gateway.snat:
            self.hop(
                host, "route", f"out of gateway {gateway.ip} without SNAT", f"router:{router_id}"
            )
            self.deliver(f"leaves through router {router_id}'s gateway (no SNAT)")
            return
        self.hop(host, "snat", f"{src} -> {gateway.ip}", f"router:{router_id}")
        self.deliver(f"leaves through router {router_id}'s gateway, SNAT to {gateway.ip}")

    def out_and_back(self, tables: HostTables, port: Port, subnet: Subnet) -> None:
        """To a floating IP from inside: out through the source's translation, back in by DNAT."""
        packet = self.packet
        router = tables.router_of_subnet(subnet.id)
        fips = tables.floating_ips_of_port(port.id)
        if fips:
            seen = fips[0].address
            self.hop(tables.host, "snat", f"{packet.src_ip} -> {seen}", f"floatingip:{fips[0].id}")
        elif router is not None and router.gateway is not None and router.gateway.snat:
            seen = router.gateway.ip
            self.hop(tables.host, "snat", f"{packet.src_ip} -> {seen}", f"router:{router.id}")
        else:
            self.drop(tables.host, "route", f"no way out of the VPC to reach {packet.dst_ip}")
            return
        self.dnat(Packet(seen, packet.dst_ip, packet.protocol, packet.dst_port))

    # ---- the receiving side -------------------------------------------------------------

    def dnat(self, packet: Packet) -> None:
        """A floating IP destination: translate on its port's host, then arrive."""
        host = self.world.floating_ip_host(packet.dst_ip)
        if host is None:
            self.forward(packet)
            return
        tables = self.world.tables(host)
        if tables is None:
            self.drop("-", "dnat", f"{packet.dst_ip} is not a floating IP of a bound port")
            return
        fip = tables.floating_ip(packet.dst_ip)
        if fip is None:
            self.drop(host, "dnat", f"floating IP {packet.dst_ip} is not programmed on {host}")
            return
        self.hop(host, "dnat", f"{packet.dst_ip} -> {fip.fixed_ip}", f"floatingip:{fip.id}")
        self.arrive(tables, fip.port_id, fip.fixed_ip, packet.src_ip)

    def forward(self, packet: Packet) -> None:
        """A floating IP's forwarded port: translate on the internal port's host, arrive."""
        protocol = _protocol(packet.protocol)
        host = self.world.port_forwarding_host(packet.dst_ip, protocol, packet.dst_port)
        tables = self.world.tables(host) if host else None
        pf = tables.port_forwarding(packet.dst_ip, protocol, packet.dst_port) if tables else None
        if host is None or tables is None:
            self.drop("-", "dnat", f"{packet.dst_ip} is not a floating IP of a bound port")
            return
        internal_port = pf.internal_port(packet.dst_port) if pf is not None else None
        if pf is None or internal_port is None:
            self.drop(
                host,
                "dnat",
                f"forwarding of {packet.dst_ip} {protocol}/{packet.dst_port} is not on {host}",
            )
            return
        self.hop(
            host,
            "dnat",
            f"{packet.dst_ip}:{packet.dst_port} -> {pf.internal_ip}:{internal_port}",
            f"port_forwarding:{pf.id}",
        )
        self.arrive(tables, pf.port_id, pf.internal_ip, packet.src_ip, internal_port)

    def arrive(
        self, tables: HostTables, port_id: str, dst: str, src: str, dst_port: int | None = None
    ) -> None:
        host = tables.host
        port = tables.port(port_id)
        if port is None:
            self.drop(host, "port", f"port {port_id} is not programmed on {host}")
            return
        subnet = _own_subnet(tables, port, dst)
        if subnet is None:
            self.drop(host, "port", f"{dst} is not an address of port {port_id} on {host}")
            return
        port_number = self.packet.dst_port if dst_port is None else dst_port
        arriving = Packet(src, dst, self.packet.protocol, port_number)
        if not self.acl(tables, subnet, "ingress", arriving, src):
            return
        peer = tables.neighbor(src, subnet.tunnel_id)
        peer_groups = peer.groups if peer is not None else ()
        if port.security and not self.security_groups(
            tables, port, "ingress", arriving, src, peer_groups
        ):
            return
        self.hop(host, "port", f"to {dst} on {port_id}", f"port:{port_id}")
        self.deliver(f"delivered to port {port_id} on {host}")

    # ---- filters ------------------------------------------------------------------------

    def security_groups(
        self,
        tables: HostTables,
        port: Port,
        direction: str,
        packet: Packet,
        peer: str,
        peer_groups: Iterable[str],
    ) -> bool:
        host, stage = tables.host, f"security-group {direction}"
        if (
            direction == "ingress"
            and (packet.dst_ip, packet.src_ip, packet.protocol) in self.established
        ):
            self.hop(host, stage, "reply of an allowed flow")
            return True
        groups: list[SecurityGroup] = []
        for group_id in port.groups:
            group = tables.security_group(group_id)
            if group is None:
                self.drop(
                    host,
                    stage,
                    f"security group {group_id} of port {port.id} is not on {host}",
                    f"security_group:{group_id}",
                )
                return False
            groups.append(group)
        allowed = _allowing_rule(groups, direction, packet, peer, set(peer_groups))
        if allowed is not None:
            group_id, rule_id = allowed
            self.hop(host, stage, f"allowed by rule {rule_id}", f"security_group:{group_id}")
            return True
        names = ", ".join(g.id for g in groups) or "none"
        toward = "from" if direction == "ingress" else "to"
        what = (
            f"{_protocol(packet.protocol)} {packet.dst_port}"
            if packet.dst_port
            else _protocol(packet.protocol)
        )
        self.drop(
            host,
            stage,
            f"no {direction} rule of security groups [{names}] allows {what} {toward} {peer}",
            f"security_group:{groups[0].id}" if groups else "",
        )
        return False

    def acl(
        self, tables: HostTables, subnet: Subnet, direction: str, packet: Packet, peer: str
    ) -> bool:
        acl: Acl | None = tables.acl_of_subnet(subnet.id)
        if acl is None:
            return True
        host, stage = tables.host, f"network-acl {direction}"
        family, protocol = ethertype(peer), _protocol(packet.protocol)
        for rule in acl.rules:
            if (
                rule.direction == direction
                and rule.ethertype == family
                and _protocol(rule.protocol) in ("all", "any", protocol)
                and contains(rule.prefix, peer)
                and _ports_match(protocol, rule.port_min, rule.port_max, packet.dst_port)
            ):
                obj = f"network_acl:{acl.id}#{rule.number}"
                if rule.action == "allow":
                    self.hop(host, stage, f"rule {rule.number} allows", obj)
                    return True
                self.drop(host, stage, f"network ACL {acl.id} rule {rule.number} denies", obj)
                return False
        self.drop(host, stage, f"network ACL {acl.id}: no rule matches", f"network_acl:{acl.id}")
        return False


def _allowing_rule(
    groups: list[SecurityGroup],
    direction: str,
    packet: Packet,
    peer: str,
    peer_groups: set[str],
) -> tuple[str, str] | None:
    """Return (group, rule) of the first rule that lets the packet through, or None."""
    family, protocol = ethertype(peer), _protocol(packet.protocol)
    for group in groups:
        for rule in group.rules:
            if (
                rule.direction == direction
                and rule.ethertype == family
                and _protocol(rule.protocol) in ("any", protocol)
                and _ports_match(protocol, rule.port_min, rule.port_max, packet.dst_port)
                and (not rule.remote_prefix or contains(rule.remote_prefix, peer))
                and (not rule.remote_group or rule.remote_group in peer_groups)
            ):
                return group.id, rule.id
    return None
