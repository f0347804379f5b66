"""Apply committed events to the data plane's topology and mark the affected hosts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from alcor.bus import Bus, Event
from alcor.managers.acl.messages import (
    GetNetworkAcl,
    ListNetworkAcls,
    NetworkAclChanged,
    NetworkAclDeleted,
)
from alcor.managers.address_group.messages import LookupAddressGroups
from alcor.managers.common import admin_context
from alcor.managers.floatingip.messages import FloatingIpChanged, ListFloatingIps
from alcor.managers.gateway.messages import (
    GatewayChanged,
    GatewayDeleted,
    GatewayRecord,
    GatewaysOfNetwork,
)
from alcor.managers.network.messages import (
    ListNetworks,
    NetworkCreated,
    NetworkDeleted,
    NetworkUpdated,
)
from alcor.managers.node.messages import LookupNodes, NodeCreated, NodeDeleted, NodeUpdated
from alcor.managers.port.messages import (
    LookupPorts,
    PortCreated,
    PortDeleted,
    PortUpdated,
    QueryPorts,
)
from alcor.managers.port_forwarding.messages import (
    AllPortForwardings,
    PortForwardingChanged,
    PortForwardingDeleted,
)
from alcor.managers.qos.messages import ListQosPolicies, QosPolicyChanged, QosPolicyDeleted
from alcor.managers.router.messages import ListRouters, RouterChanged, RouterDeleted
from alcor.managers.security_group.messages import (
    LookupSecurityGroups,
    SecurityGroupChanged,
    SecurityGroupDeleted,
)
from alcor.managers.subnet.messages import ListSubnets, SubnetCreated, SubnetDeleted, SubnetUpdated
from alcor.managers.trunk.messages import ListTrunks, TrunkChanged, TrunkDeleted
from alcor.resources.repo import ListQuery
from alcor.southbound.records import ZetaGatewayRec
from alcor.southbound.topology import PORT_FIELDS, Topology
from alcor.southbound.view import (
    DHCP,
    FLOATINGIP,
    GATEWAY,
    NEIGHBOR,
    NETWORK_ACL,
    PORT,
    PORT_FORWARDING,
    QOS_POLICY,
    ROUTER,
    SECURITYGROUP,
    SUBNET,
    VPC,
    neighbor_key,
)
from alcor.store.revisions import next_revision

if TYPE_CHECKING:
    from alcor.southbound.engine import SouthboundEngine
    from alcor.southbound.planner import Marks

EVENT_TYPES = (
    NetworkCreated,
    NetworkUpdated,
    NetworkDeleted,
    SubnetCreated,
    SubnetUpdated,
    SubnetDeleted,
    PortCreated,
    PortUpdated,
    PortDeleted,
    RouterChanged,
    RouterDeleted,
    SecurityGroupChanged,
    SecurityGroupDeleted,
    NodeCreated,
    NodeUpdated,
    NodeDeleted,
    NetworkAclChanged,
    NetworkAclDeleted,
    FloatingIpChanged,
    GatewayChanged,
    GatewayDeleted,
    QosPolicyChanged,
    QosPolicyDeleted,
    TrunkChanged,
    TrunkDeleted,
    PortForwardingChanged,
    PortForwardingDeleted,
)
ADDRESS_FIELDS = {"local_ip", "server_port", "transport", "grpc_api", "mq_topic", "subscribe_port"}


async def load(bus: Bus, topo: Topology) -> list[dict[str, Any]]:
    """Fill the topology from the store through the managers' list commands; return the
    nodes as loaded."""
    ctx = admin_context()
    nodes = await bus.call(LookupNodes())
    for node in nodes:
        topo.set_node(node)
    for net in (await bus.call(ListNetworks(ctx=ctx, query=ListQuery()))).items:
        topo.set_network(net)
    for sub in (await bus.call(ListSubnets(ctx=ctx, query=ListQuery()))).items:
        topo.set_subnet(sub)
    for port in await bus.call(QueryPorts(fields=PORT_FIELDS)):
        topo.set_port(port)
    for router in (await bus.call(ListRouters(ctx=ctx, query=ListQuery()))).items:
        topo.set_router(router)
    for acl in (await bus.call(ListNetworkAcls(ctx=ctx, query=ListQuery()))).items:
        topo.set_acl(acl)
    for fip in (await bus.call(ListFloatingIps(ctx=ctx, query=ListQuery()))).items:
        topo.set_fip(fip)
    for policy in (await bus.call(ListQosPolicies(ctx=ctx, query=ListQuery()))).items:
        topo.set_qos(policy)
    for trunk in (await bus.call(ListTrunks(ctx=ctx, query=ListQuery()))).items:
        topo.set_trunk(trunk)
    for pf in await bus.call(AllPortForwardings()):
        topo.set_pf(pf)
    for network_id in list(topo.networks):
        for gateway in await bus.call(GatewaysOfNetwork(network_id=network_id)):
            topo.set_gateway(_gateway_rec(gateway))
    await ensure_groups(bus, topo, {g for p in topo.ports.values() if p.node_id for g in p.sgs})
    return list(nodes)


async def ensure_groups(bus: Bus, topo: Topology, ids: set[str]) -> None:
    """Load the security groups (and their remote groups) that bound ports need.

    Groups are loaded lazily: a group no host holds costs the data plane nothing, however
    often its rules change.
    """
    for _ in range(2):  # the groups, then the remote groups they name (depth 1, §3.1 G(H))
        missing = [g for g in ids if g not in topo.sgs]
        if not missing:
            return
        groups = (await bus.call(LookupSecurityGroups(ids=missing))).values()
        address_groups = await _address_groups(bus, groups)
        for group in groups:
            topo.set_sg(group, address_groups)
        ids = {r for g in missing if g in topo.sgs for r in topo.sgs[g].remote_groups}


async def _address_groups(bus: Bus, groups: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """Return the addresses of the address groups the groups' rules name."""
    ids = {
        r["remote_address_group_id"]
        for g in groups
        for r in g.get("security_group_rules") or ()
        if r.get("remote_address_group_id")
    }
    return await bus.call(LookupAddressGroups(ids=sorted(ids))) if ids else {}


async def apply(dp: SouthboundEngine, event: Event, marks: Marks) -> None:
    """Update the topology with one committed event and mark what it changes."""
    handler = _HANDLERS.get(type(event))
    if handler is not None:
        await handler(dp, event, marks)


async def _port_set(dp: SouthboundEngine, event: Any, marks: Marks) -> None:
    old = dp.topo.set_port(event.port)
    new = dp.topo.ports[event.port["id"]]
    if new.node_id is not None and new.sgs:
        await ensure_groups(dp.bus, dp.topo, set(new.sgs))
    dp.planner.port_changed(old, new, marks)
    compute = not new.device_owner.startswith("network:")
    if (
        compute
        and event.port.get("status") == "ACTIVE"
        and (old is None or old.revision != new.revision or new.node_id is None or not new.admin_up)
    ):
        dp.set_status(new.id, "DOWN", new.revision)


async def _port_deleted(dp: SouthboundEngine, event: PortDeleted, marks: Marks) -> None:
    port = event.port
    old = dp.topo.drop_port(port["id"])
    dp.tombs[(PORT, port["id"])] = next_revision(port)
    dp.tombs[(DHCP, port["id"])] = next_revision(port)
    dp.tombs[(NEIGHBOR, neighbor_key(port["id"]))] = next_revision(
        port, "neighbor_revision" if port.get("neighbor_revision") else "revision_number"
    )
    if old is not None:
        dp.planner.port_changed(old, None, marks)


async def _subnet_set(dp: SouthboundEngine, event: Any, marks: Marks) -> None:
    old = dp.topo.set_subnet(event.subnet)
    flip = old is not None and old.dhcp != bool(event.subnet["enable_dhcp"])
    dp.planner.subnet_changed(event.subnet["id"], marks, dhcp_flip=flip)


async def _subnet_deleted(dp: SouthboundEngine, event: SubnetDeleted, marks: Marks) -> None:
    subnet_id = event.subnet["id"]
    hosts = dp.planner.hosts_reaching([subnet_id])
    dp.topo.drop_subnet(subnet_id)
    dp.tombs[(SUBNET, subnet_id)] = next_revision(event.subnet)
    for node_id in hosts:
        dp.planner.refresh(node_id, marks)
        marks.setdefault(node_id, set()).add((SUBNET, subnet_id))


async def _network_set(dp: SouthboundEngine, event: Any, marks: Marks) -> None:
    old = dp.topo.networks.get(event.network["id"])
    dp.topo.set_network(event.network)
    dp.planner.network_changed(event.network["id"], marks)
    if old is not None and old.qos_policy_id != dp.topo.networks[old.id].qos_policy_id:
        dp.planner.network_qos_changed(old.id, marks)


async def _network_deleted(dp: SouthboundEngine, event: NetworkDeleted, marks: Marks) -> None:
    dp.topo.drop_network(event.network["id"])
    dp.tombs[(VPC, event.network["id"])] = next_revision(event.network)


async def _router_changed(dp: SouthboundEngine, event: RouterChanged, marks: Marks) -> None:
    dp.topo.set_router(event.router)
    await _reload_ports(
        dp, [p for s in event.subnet_ids for p in dp.topo.bound_in_subnet.get(s, ())]
    )
    dp.planner.router_changed(event.router["id"], event.subnet_ids, marks)


async def _router_deleted(dp: SouthboundEngine, event: RouterDeleted, marks: Marks) -> None:
    router_id = event.router["id"]
    hosts = set(dp.planner.hosts_by_router.get(router_id, ()))
    dp.topo.drop_router(router_id)
    dp.tombs[(ROUTER, router_id)] = next_revision(event.router)
    for node_id in hosts:
        dp.planner.refresh(node_id, marks)


async def _group_changed(dp: SouthboundEngine, event: SecurityGroupChanged, marks: Marks) -> None:
    group_id = event.security_group_id
    if not dp.planner.hosts_by_group.get(group_id):
        dp.topo.sgs.pop(group_id, None)  # nobody holds it: reload when a host needs it
        return
    group = (await dp.bus.call(LookupSecurityGroups(ids=[group_id]))).get(group_id)
    if group is not None:
        dp.topo.set_sg(group, await _address_groups(dp.bus, [group]))
        await ensure_groups(dp.bus, dp.topo, dp.topo.sgs[group_id].remote_groups)
        dp.planner.group_changed(group_id, marks, refresh=True)


async def _group_deleted(dp: SouthboundEngine, event: SecurityGroupDeleted, marks: Marks) -> None:
    group_id = event.security_group["id"]
    dp.topo.sgs.pop(group_id, None)
    dp.tombs[(SECURITYGROUP, group_id)] = next_revision(event.security_group)
    dp.planner.group_changed(group_id, marks, refresh=True)


async def _node_created(dp: SouthboundEngine, event: NodeCreated, marks: Marks) -> None:
    dp.topo.set_node(event.node)
    dp.ensure_sender(dp.topo.nodes[event.node["node_id"]])


async def _node_updated(dp: SouthboundEngine, event: NodeUpdated, marks: Marks) -> None:
    dp.topo.set_node(event.node)
    node_id = event.node["node_id"]
    if {"mac_address", "data-path-ip"} & event.changed:
        await _reload_ports(dp, dp.planner.ports_of_node(node_id), marks)
    if ADDRESS_FIELDS & event.changed:
        await dp.transports.forget_node(node_id)
        dp.restart_node(node_id)


async def _node_deleted(dp: SouthboundEngine, event: NodeDeleted, marks: Marks) -> None:
    dp.topo.drop_node(event.node["node_id"])
    await dp.remove_node(event.node["node_id"])


async def _acl_changed(dp: SouthboundEngine, event: NetworkAclChanged, marks: Marks) -> None:
    acl = await dp.bus.call(GetNetworkAcl(ctx=admin_context(), id=event.network_acl["id"]))
    old = dp.topo.set_acl(acl)
    subnets = set(old.subnets if old else ()) | set(dp.topo.acls[acl["id"]].subnets)
    dp.planner.acl_changed(acl["id"], subnets, marks)


async def _acl_deleted(dp: SouthboundEngine, event: NetworkAclDeleted, marks: Marks) -> None:
    acl = event.network_acl
    old = dp.topo.drop_acl(acl["id"])
    dp.tombs[(NETWORK_ACL, acl["id"])] = next_revision(acl)
    dp.planner.acl_changed(acl["id"], old.subnets if old else (), marks)


async def _fip_changed(dp: SouthboundEngine, event: FloatingIpChanged, marks: Marks) -> None:
    fip = event.floatingip
    if event.deleted:
        old = dp.topo.drop_fip(fip["id"])
        dp.tombs[(FLOATINGIP, fip["id"])] = next_revision(fip)
    else:
        old = dp.topo.set_fip(fip)
    ports = {p for p in (old.port_id if old else None, fip.get("port_id")) if p}
    dp.planner.fip_changed(fip["id"], ports, marks)


async def _qos_changed(dp: SouthboundEngine, event: QosPolicyChanged, marks: Marks) -> None:
    # A policy is committed before any port or network names it: a new one has no host yet.
    dp.topo.set_qos(event.policy)
    dp.planner.qos_changed(event.policy["id"], marks)


async def _qos_deleted(dp: SouthboundEngine, event: QosPolicyDeleted, marks: Marks) -> None:
    policy = event.policy
    dp.topo.drop_qos(policy["id"])
    dp.tombs[(QOS_POLICY, policy["id"])] = next_revision(policy)
    dp.planner.qos_changed(policy["id"], marks)


async def _trunk_changed(dp: SouthboundEngine, event: TrunkChanged, marks: Marks) -> None:
    for port_id in dp.topo.set_trunk(event.trunk):
        _mark_port(dp, port_id, marks)


async def _trunk_deleted(dp: SouthboundEngine, event: TrunkDeleted, marks: Marks) -> None:
    for port_id in dp.topo.drop_trunk(event.trunk["id"]):
        _mark_port(dp, port_id, marks)


def _mark_port(dp: SouthboundEngine, port_id: str, marks: Marks) -> None:
    """Mark a port's state on its host (a subport's VLAN is part of it)."""
    port = dp.topo.ports.get(port_id)
    if port is not None and port.node_id is not None:
        marks.setdefault(port.node_id, set()).add((PORT, port_id))


async def _pf_changed(dp: SouthboundEngine, event: PortForwardingChanged, marks: Marks) -> None:
    pf = event.port_forwarding
    old = dp.topo.set_pf(pf)
    ports = {p for p in (old.internal_port_id if old else None, pf["internal_port_id"]) if p}
    dp.planner.pf_changed(pf["id"], ports, marks)


async def _pf_deleted(dp: SouthboundEngine, event: PortForwardingDeleted, marks: Marks) -> None:
    pf = event.port_forwarding
    old = dp.topo.drop_pf(pf["id"])
    dp.tombs[(PORT_FORWARDING, pf["id"])] = next_revision(pf, "sb_revision")
    if old is not None:
        dp.planner.pf_changed(pf["id"], [old.internal_port_id], marks)


def _gateway_rec(gateway: GatewayRecord) -> ZetaGatewayRec:
    return ZetaGatewayRec(
        gateway.id,
        gateway.vpc_id,
        gateway.revision,
        tuple((d.ip, d.mac) for d in gateway.destinations),
        gateway.port_ibo,
    )


async def _gateway_changed(dp: SouthboundEngine, event: GatewayChanged, marks: Marks) -> None:
    dp.topo.set_gateway(_gateway_rec(event.gateway))
    dp.planner.gateway_changed(event.gateway.vpc_id, event.gateway.id, marks)


async def _gateway_deleted(dp: SouthboundEngine, event: GatewayDeleted, marks: Marks) -> None:
    dp.topo.drop_gateway(event.gateway.id)
    dp.tombs[(GATEWAY, event.gateway.id)] = event.gateway.revision + 1
    dp.planner.gateway_changed(event.gateway.vpc_id, event.gateway.id, marks)


async def _reload_ports(
    dp: SouthboundEngine, port_ids: list[str], marks: Marks | None = None
) -> None:
    """Re-read ports whose neighbor revision was bumped without a port event."""
    if not port_ids:
        return
    ports = await dp.bus.call(LookupPorts(ids=list(dict.fromkeys(port_ids))))
    for port in ports.values():
        old = dp.topo.set_port(port)
        if marks is not None:
            dp.planner.port_changed(old, dp.topo.ports[port["id"]], marks)


_HANDLERS: dict[type, Any] = {
    PortCreated: _port_set,
    PortUpdated: _port_set,
    PortDeleted: _port_deleted,
    SubnetCreated: _subnet_set,
    SubnetUpdated: _subnet_set,
    SubnetDeleted: _subnet_deleted,
    NetworkCreated: _network_set,
    NetworkUpdated: _network_set,
    NetworkDeleted: _network_deleted,
    RouterChanged: _router_changed,
    RouterDeleted: _router_deleted,
    SecurityGroupChanged: _group_changed,
    NetworkAclChanged: _acl_changed,
    NetworkAclDeleted: _acl_deleted,
    FloatingIpChanged: _fip_changed,
    PortForwardingChanged: _pf_changed,
    PortForwardingDeleted: _pf_deleted,
    GatewayChanged: _gateway_changed,
    GatewayDeleted: _gateway_deleted,
    QosPolicyChanged: _qos_changed,
    QosPolicyDeleted: _qos_deleted,
    TrunkChanged: _trunk_changed,
    TrunkDeleted: _trunk_deleted,
    SecurityGroupDeleted: _group_deleted,
    NodeCreated: _node_created,
    NodeUpdated: _node_updated,
    NodeDeleted: _node_deleted,
}
