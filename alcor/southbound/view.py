"""What one host must hold: its view P(H), S(H), R(H), SV(H), G(H) (southbound spec §3.1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from alcor.southbound.records import PortRec
from alcor.southbound.topology import Topology

# Kinds, as the ResourceType names of the wire contract.
VPC, SUBNET, PORT, NEIGHBOR, SECURITYGROUP, DHCP, ROUTER, GATEWAY = (
    "VPC",
    "SUBNET",
    "PORT",
    "NEIGHBOR",
    "SECURITYGROUP",
    "DHCP",
    "ROUTER",
    "GATEWAY",
)
# alcor extensions, for agents of type "alcor" only (ACA's view stays as it was).
NETWORK_ACL, FLOATINGIP, PORT_FORWARDING = "NETWORK_ACL", "FLOATINGIP", "PORT_FORWARDING"
QOS_POLICY = "QOS_POLICY"


def vpc_gateways(topo: Topology, vpc_id: str) -> tuple[str, ...]:
    """Return the gateways a VPC's hosts hold: the READY ones its network names (§8.3)."""
    net = topo.networks.get(vpc_id)
    if net is None:
        return ()
    return tuple(g for g in net.gateway_ids if g in topo.gateways)


CONTEXT_KINDS = (VPC, SUBNET, GATEWAY)
Key = tuple[str, str]  # (kind, map key)


@dataclass(frozen=True, slots=True)
class HostView:
    """The sets that define a host's desired state."""

    ports: frozenset[str]  # P(H): bound ports on H with admin_state_up
    subnets: frozenset[str]  # S(H)
    routers: frozenset[str]  # R(H)
    reachable: frozenset[str]  # SV(H) = S(H) plus the subnets of R(H)
    groups: frozenset[str]  # G(H), with remote groups (depth 1)
    # Neighbors the host asked for on demand (ARP miss) outside SV(H), and their subnets.
    granted: frozenset[str] = frozenset()
    granted_subnets: frozenset[str] = frozenset()
    acls: frozenset[str] = frozenset()  # ACLs guarding S(H)
    fips: frozenset[str] = frozenset()  # floating IPs of P(H)
    pfs: frozenset[str] = frozenset()  # port forwardings to P(H)
    # Subnets outside SV(H) of neighbors' other fixed IPs (a dual-stack neighbor's IPv4
    # subnet on a host that reaches only its IPv6 one): contexts, not neighbor sources.
    neighbor_subnets: frozenset[str] = frozenset()
    qos: frozenset[str] = frozenset()  # QoS policies of P(H) (own or their network's)

    @property
    def context_subnets(self) -> frozenset[str]:
        """Return every subnet whose context state the host holds (SV(H), the other subnets
        of its neighbors, and grants)."""
        if not self.granted and not self.neighbor_subnets:
            return self.reachable
        return self.reachable | self.granted_subnets | self.neighbor_subnets


EMPTY = HostView(frozenset(), frozenset(), frozenset(), frozenset(), frozenset())


def granted_view(topo: Topology, view: HostView, granted: set[str]) -> HostView:
    """Return `view` with the on-demand neighbors that still exist and are bound."""
    ports = frozenset(p for p in granted if topo.bound(topo.ports.get(p)))
    if not ports and not view.granted:
        return view
    subnets = (
        frozenset(s for p in ports for s in topo.ports[p].subnet_ids if s in topo.subnets)
        - view.reachable
    )
    return HostView(
        view.ports,
        view.subnets,
        view.routers,
        view.reachable,
        view.groups,
        ports,
        subnets,
        view.acls,
        view.fips,
        view.pfs,
        view.neighbor_subnets,
        view.qos,
    )


def neighbor_in_view(view: HostView, port_id: str, subnet_ids: tuple[str, ...]) -> bool:
    """Tell whether a bound port is a neighbor of the host (SV(H) or an on-demand grant)."""
    return not view.reachable.isdisjoint(subnet_ids) or port_id in view.granted


def compute_view(topo: Topology, node_id: str) -> HostView:
    """Derive a host's view from the topology (cost: one pass over its own ports, then
    their subnets, routers and groups)."""
    node = topo.nodes.get(node_id)
    extended = node is not None and node.agent_type == "alcor"  # alcor's extension kinds
    ports: set[str] = set()
    subnets: set[str] = set()
    groups: set[str] = set()
    fips: set[str] = set()
    pfs: set[str] = set()
    qos: set[str] = set()
    known_subnets, known_groups = topo.subnets, topo.sgs
    for p in topo.ports_on_node.get(node_id, ()):
        port = topo.ports[p]
        if not port.admin_up:
            continue
        ports.add(p)
        subnets.update(s for s in port.subnet_ids if s in known_subnets)
        groups.update(g for g in port.sgs if g in known_groups)
        if extended:
            fips.update(topo.fips_of_port.get(p, ()))
            pfs.update(topo.pfs_of_port.get(p, ()))
            if (policy := topo.qos_of_port(port)) is not None:
                qos.add(policy)
    routers = frozenset(
        router
        for s in subnets
        if (router := known_subnets[s].router_id) is not None and router in topo.routers
    )
    reachable = set(subnets)
    for router in routers:
        reachable.update(s for s in topo.subnets_of_router.get(router, ()) if s in known_subnets)
    for g in list(groups):
        groups.update(r for r in known_groups[g].remote_groups if r in known_groups)
    acls: frozenset[str] = frozenset()
    if extended:
        acls = frozenset(a for s in subnets if (a := topo.acl_of_subnet.get(s)) is not None)
    others = {t for s in reachable for t in topo.co_subnets.get(s, ()) if t in known_subnets}
    return HostView(
        frozenset(ports),
        frozenset(subnets),
        routers,
        frozenset(reachable),
        frozenset(groups),
        acls=acls,
        fips=frozenset(fips),
        pfs=frozenset(pfs),
        neighbor_subnets=frozenset(others - reachable),
        qos=frozenset(qos),
    )


def brings_only_itself(topo: Topology, view: HostView, port: PortRec, extended: bool) -> bool:
    """Tell whether a bound, enabled port of the host adds nothing to the host's view but
    its own id: its subnets, groups (with their remote groups), floating IPs, forwardings
    and QoS policy are all there already (compute_view would return the view plus it)."""
    known_subnets, known_groups = topo.subnets, topo.sgs
    if any(s in known_subnets and s not in view.subnets for s in port.subnet_ids):
        return False
    for g in port.sgs:
        group = known_groups.get(g)
        if group is None:
            continue
        if g not in view.groups or any(
            r in known_groups and r not in view.groups for r in group.remote_groups
        ):
            return False
    if not extended:
        return True
    policy = topo.qos_of_port(port)
    return (
        topo.fips_of_port.get(port.id, set()) <= view.fips
        and topo.pfs_of_port.get(port.id, set()) <= view.pfs
        and (policy is None or policy in view.qos)
    )


def same_footprint(old: PortRec, new: PortRec) -> bool:
    """Tell whether two versions of a port bring the same things to their host's view."""
    return (
        old.subnet_ids == new.subnet_ids
        and old.sgs == new.sgs
        and old.qos_policy_id == new.qos_policy_id
        and old.network_id == new.network_id
        and old.device_owner.startswith("network:") == new.device_owner.startswith("network:")
    )


def neighbor_key(port_id: str) -> str:
    """Return the neighbor map key of a port (`<port_id>_n` everywhere)."""
    return f"{port_id}_n"


def port_of_neighbor(key: str) -> str:
    """Return the port id of a neighbor key."""
    return key[:-2]


def in_view(topo: Topology, view: HostView, kind: str, key: str) -> bool:
    """Return True when (kind, key) belongs to the host's desired state."""
    if kind == PORT:
        return key in view.ports
    if kind == DHCP:
        return key in view.ports and any(
            topo.subnets[s].dhcp for s in topo.ports[key].subnet_ids if s in topo.subnets
        )
    if kind == NEIGHBOR:
        port = topo.ports.get(port_of_neighbor(key))
        return (
            port is not None
            and port.node_id is not None
            and neighbor_in_view(view, port.id, port.subnet_ids)
        )
    if kind == ROUTER:
        return key in view.routers
    if kind == SECURITYGROUP:
        return key in view.groups
    if kind == NETWORK_ACL:
        return key in view.acls
    if kind == FLOATINGIP:
        return key in view.fips
    if kind == QOS_POLICY:
        return key in view.qos
    if kind == PORT_FORWARDING:
        return key in view.pfs
    if kind == SUBNET:
        return key in view.context_subnets
    if kind == GATEWAY:
        gateway = topo.gateways.get(key)
        return (
            gateway is not None
            and in_view(topo, view, VPC, gateway.vpc_id)
            and (key in vpc_gateways(topo, gateway.vpc_id))
        )
    if kind == VPC:
        return any(
            topo.subnets[s].network_id == key for s in view.context_subnets if s in topo.subnets
        )
    return False


def all_keys(topo: Topology, view: HostView) -> Iterator[Key]:
    """Yield every (kind, key) of the host's desired state (full sync)."""
    for p in view.ports:
        yield PORT, p
        if in_view(topo, view, DHCP, p):
            yield DHCP, p
    seen: set[str] = set()
    for s in view.reachable:
        for q in topo.bound_in_subnet.get(s, ()):
            if q not in seen:
                seen.add(q)
                yield NEIGHBOR, neighbor_key(q)
    for q in view.granted - seen:
        yield NEIGHBOR, neighbor_key(q)
    for r in view.routers:
        yield ROUTER, r
    for g in view.groups:
        yield SECURITYGROUP, g
    for a in view.acls:
        yield NETWORK_ACL, a
    for f in view.fips:
        yield FLOATINGIP, f
    for q in view.qos:
        yield QOS_POLICY, q
    for f in view.pfs:
        yield PORT_FORWARDING, f
    contexts = view.context_subnets
    for s in contexts:
        yield SUBNET, s
    for v in {topo.subnets[s].network_id for s in contexts if s in topo.subnets}:
        yield VPC, v
        for g in vpc_gateways(topo, v):
            yield GATEWAY, g
