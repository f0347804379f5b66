"""The controller's picture of every host's tables, for the packet evaluator (alcor.trace).

Two sources, one shape:

* intent: what each host should hold (its view of the committed network);
* acked (the default): only what the host acknowledged, at the revision it acknowledged
  (the delivery ledger). A state not acked at the current revision is absent: that is
  where a trace over what the hosts hold differs from one over what they should hold.

Lookups are computed on demand from the topology's indexes, so a trace on a network of
10,000 ports reads a handful of records, not the hosts' whole tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from alcor.southbound.delivery import Delivery
from alcor.southbound.planner import Planner
from alcor.southbound.records import PfRec, PortRec, SgRec
from alcor.southbound.topology import Topology
from alcor.southbound.view import (
    FLOATINGIP,
    NEIGHBOR,
    NETWORK_ACL,
    PORT,
    PORT_FORWARDING,
    ROUTER,
    SECURITYGROUP,
    SUBNET,
    HostView,
    Key,
    neighbor_in_view,
    neighbor_key,
)
from alcor.trace import model as t
from alcor.trace.evaluate import evaluate


def _protocol(value: object) -> str:
    return "any" if value is None else str(value).lower()


def sg_rules(group: SgRec) -> tuple[t.SgRule, ...]:
    """Return a group's rules in the evaluator's form."""
    return tuple(
        t.SgRule(
            r["id"],
            r["direction"],
            r.get("ethertype") or "IPv4",
            _protocol(r.get("protocol")),
            r.get("port_range_min") or 0,
            r.get("port_range_max") or 0,
            r.get("remote_ip_prefix") or "",
            r.get("remote_group_id") or "",
        )
        for r in group.rules
    )


@dataclass
class ControllerTables:
    """One host's tables as the controller knows them (t.HostTables)."""

    host: str
    host_ip: str
    topo: Topology
    view: HostView
    acked: Delivery | None  # None: the intent

    def _held(self, key: Key, revision: int) -> bool:
        return self.acked is None or self.acked.holds(key, revision)

    def _port_record(self, rec: PortRec) -> t.Port:
        return t.Port(rec.id, rec.network_id, rec.mac, rec.fixed_ips, rec.sgs, rec.security)

    def port(self, port_id: str) -> t.Port | None:
        """Return one of the host's own ports."""
        rec = self.topo.ports.get(port_id)
        if (
            rec is None
            or port_id not in self.view.ports
            or not self._held((PORT, port_id), rec.revision)
        ):
            return None
        return self._port_record(rec)

    def port_by_ip(self, vpc_id: str, ip: str) -> t.Port | None:
        """Return the host's own port with this fixed IP in the VPC."""
        net = self.topo.networks.get(vpc_id)
        owner = self.topo.address_owner.get((net.seg_id, ip)) if net else None
        return self.port(owner) if owner else None

    def neighbor(self, ip: str, tunnel_id: int) -> t.Neighbor | None:
        """Return where an address lives, if the host holds that neighbor."""
        owner = self.topo.address_owner.get((tunnel_id, ip))
        rec = self.topo.ports.get(owner) if owner else None
        if rec is None or rec.node_id is None:
            return None
        if not neighbor_in_view(self.view, rec.id, rec.subnet_ids):
            return None
        if not self._held((NEIGHBOR, neighbor_key(rec.id)), rec.neighbor_revision):
            return None
        node = self.topo.nodes.get(rec.node_id)
        mac = next((m for address, m in rec.pairs if address == ip), rec.mac)
        return t.Neighbor(rec.id, mac, node.data_ip if node else "", rec.sgs)

    def subnet(self, subnet_id: str) -> t.Subnet | None:
        """Return a subnet the host holds."""
        rec = self.topo.subnets.get(subnet_id)
        if rec is None or subnet_id not in self.view.context_subnets:
            return None
        if not self._held((SUBNET, subnet_id), rec.revision):
            return None
        net = self.topo.networks.get(rec.network_id)
        return t.Subnet(rec.id, rec.network_id, rec.cidr, net.seg_id if net else 0, rec.gateway_ip)

    def subnets_of_vpc(self, vpc_id: str) -> list[t.Subnet]:
        """Return the subnets of a VPC the host holds."""
        out = []
        for subnet_id in self.view.context_subnets:
            rec = self.topo.subnets.get(subnet_id)
            if rec is not None and rec.network_id == vpc_id:
                subnet = self.subnet(subnet_id)
                if subnet is not None:
                    out.append(subnet)
        return out

    def router(self, router_id: str) -> t.Router | None:
        """Return a router the host holds."""
        rec = self.topo.routers.get(router_id)
        if rec is None or router_id not in self.view.routers:
            return None
        if not self._held((ROUTER, router_id), rec.revision):
            return None
        gateway = None
        if rec.gateway is not None:
            external = self.topo.subnets.get(rec.gateway.subnet_id)
            gateway = t.Gateway(rec.gateway.ip, external.cidr if external else "", rec.gateway.snat)
        subnets = tuple(sorted(self.topo.subnets_of_router.get(router_id, ())))
        return t.Router(rec.id, subnets, rec.routes, gateway)

    def router_of_subnet(self, subnet_id: str) -> t.Router | None:
        """Return the router the host holds with an interface on a subnet."""
        rec = self.topo.subnets.get(subnet_id)
        return self.router(rec.router_id) if rec is not None and rec.router_id else None

    def security_group(self, group_id: str) -> t.SecurityGroup | None:
        """Return a security group the host holds."""
        rec = self.topo.sgs.get(group_id)
        if rec is None or group_id not in self.view.groups:
            return None
        if not self._held((SECURITYGROUP, group_id), rec.revision):
            return None
        return t.SecurityGroup(rec.id, sg_rules(rec))

    def acl_of_subnet(self, subnet_id: str) -> t.Acl | None:
        """Return the ACL guarding a subnet, if the host holds it (alcor agents only)."""
        acl_id = self.topo.acl_of_subnet.get(subnet_id)
        rec = self.topo.acls.get(acl_id) if acl_id else None
        if rec is None or rec.id not in self.view.acls:
            return None
        if not self._held((NETWORK_ACL, rec.id), rec.revision):
            return None
        return t.Acl(
            rec.id,
            rec.subnets,
            tuple(
                t.AclRule(
                    r.id,
                    r.number,
                    r.direction,
                    r.ethertype,
                    r.protocol,
                    r.prefix,
                    r.port_min or 0,
                    r.port_max or 0,
                    -1 if r.icmp_type is None else r.icmp_type,
                    -1 if r.icmp_code is None else r.icmp_code,
                    r.action,
                )
                for r in rec.rules
            ),
        )

    def floating_ip(self, address: str) -> t.FloatingIp | None:
        """Return the host's floating IP with this address."""
        fip_id = self.topo.fip_by_address.get(address)
        return self._fip(fip_id) if fip_id else None

    def floating_ips_of_port(self, port_id: str) -> list[t.FloatingIp]:
        """Return the floating IPs of one of the host's ports."""
        fips = (self._fip(f) for f in sorted(self.topo.fips_of_port.get(port_id, ())))
        return [f for f in fips if f is not None]

    def port_forwarding(self, address: str, protocol: str, port: int) -> t.PortForwarding | None:
        """Return the host's forwarding of a floating IP's (protocol, port)."""
        for rec, pf in forwardings_to(self.topo, address, protocol, port):
            if rec.id in self.view.pfs and self._held((PORT_FORWARDING, rec.id), rec.revision):
                return pf
        return None

    def _fip(self, fip_id: str) -> t.FloatingIp | None:
        rec = self.topo.fips.get(fip_id)
        if rec is None or fip_id not in self.view.fips:
            return None
        if not self._held((FLOATINGIP, fip_id), rec.revision):
            return None
        return t.FloatingIp(rec.id, rec.address, rec.fixed_ip, rec.port_id, rec.router_id)


class ControllerWorld:
    """Every host's tables, as the controller knows them (t.World)."""

    def __init__(
        self, topo: Topology, planner: Planner, deliveries: dict[str, Delivery] | None
    ) -> None:
        self._topo = topo
        self._planner = planner
        self._deliveries = deliveries  # None: the intent
        self._by_data_ip = {n.data_ip: n.id for n in topo.nodes.values()}

    def tables(self, host: str) -> ControllerTables | None:
        """Return a host's tables."""
        node = self._topo.nodes.get(host)
        if node is None:
            return None
        acked = None
        if self._deliveries is not None:
            acked = self._deliveries.get(host)
            if acked is None:
                return None
        return ControllerTables(host, node.data_ip, self._topo, self._planner.view(host), acked)

    def host_of(self, host_ip: str) -> str | None:
        """Return the node whose data-path address this is."""
        return self._by_data_ip.get(host_ip)

    def host_of_port(self, port_id: str) -> str | None:
        """Return the node a port is bound to."""
        rec = self._topo.ports.get(port_id)
        return rec.node_id if rec is not None else None

    def floating_ip_host(self, address: str) -> str | None:
        """Return the node of the port a floating IP address is associated with."""
        fip_id = self._topo.fip_by_address.get(address)
        rec = self._topo.fips.get(fip_id) if fip_id else None
        return self.host_of_port(rec.port_id) if rec is not None else None

    def port_forwarding_host(self, address: str, protocol: str, port: int) -> str | None:
        """Return the node of the internal port a floating IP's (protocol, port) goes to."""
        found = next(forwardings_to(self._topo, address, protocol, port), None)
        return self.host_of_port(found[1].port_id) if found is not None else None


def forwardings_to(
    topo: Topology, address: str, protocol: str, port: int
) -> Iterator[tuple[PfRec, t.PortForwarding]]:
    """Yield the forwardings of a floating IP address that take (protocol, port)."""
    for pf_id in sorted(topo.pfs_by_address.get(address, ())):
        rec = topo.pfs[pf_id]
        pf = pf_record(rec)
        if pf.forwards(protocol, port):
            yield rec, pf


def pf_record(rec: PfRec) -> t.PortForwarding:
    """Return a port forwarding in the evaluator's form."""
    return t.PortForwarding(
        rec.id,
        rec.address,
        rec.protocol,
        rec.external,
        rec.internal_port_id,
        rec.internal_ip,
        rec.internal,
    )


def trace_both(
    topo: Topology,
    planner: Planner,
    deliveries: dict[str, Delivery],
    packet: t.Packet,
    source: str,
) -> dict[str, Any]:
    """Trace over the intent and, unless asked for the intent only, over what the hosts
    acknowledged; say where the two differ."""
    intent = evaluate(ControllerWorld(topo, planner, None), packet)
    if source == "intent":
        return {**intent.to_api(), "source": "intent"}
    acked = evaluate(ControllerWorld(topo, planner, deliveries), packet)
    differences = []
    for i in range(max(len(acked.hops), len(intent.hops))):
        have = acked.hops[i] if i < len(acked.hops) else None
        want = intent.hops[i] if i < len(intent.hops) else None
        if have != want:
            differences.append(
                {
                    "index": i,
                    "acked": have.to_api() if have else None,
                    "intent": want.to_api() if want else None,
                }
            )
    return {
        **acked.to_api(),
        "source": "acked",
        "intent": {"verdict": intent.verdict, "reason": intent.reason},
        "differences": differences,
    }
