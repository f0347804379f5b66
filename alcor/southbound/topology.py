"""The data plane's in-memory picture of the committed network, with the indexes it needs.

Goal-state work must not scan: "which hosts hold subnet S", "which bound ports are in S",
"which port owns (vni, ip)" are dict lookups here. The picture is loaded once at start and
then follows committed events in commit order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class NetworkRec:
    """What goal states need of a network (VPC)."""

    id: str
    project_id: str
    name: str
    cidr: str
    seg_id: int
    net_type: str
    revision: int


@dataclass(slots=True)
class SubnetRec:
    """What goal states need of a subnet."""

    id: str
    network_id: str
    name: str
    cidr: str
    ip_version: int
    gateway_ip: str
    gateway_mac: str
    dhcp: bool
    dns: tuple[str, ...]
    router_id: str | None
    revision: int


@dataclass(slots=True)
class PortRec:
    """What goal states need of a port; `node_id` is set only when bound to a known node."""

    id: str
    network_id: str
    project_id: str
    name: str
    mac: str
    device_id: str
    device_owner: str
    fixed_ips: tuple[tuple[str, str], ...]  # (subnet_id, ip)
    pairs: tuple[tuple[str, str], ...]  # (ip, mac)
    sgs: tuple[str, ...]
    node_id: str | None
    admin_up: bool
    revision: int
    neighbor_revision: int
    dhcp_opts: tuple[tuple[str, str, int], ...] = ()  # extra_dhcp_opts: (name, value, ip v)
    subnet_ids: tuple[str, ...] = ()  # the subnets of its fixed IPs (in order, unique)

    def __post_init__(self) -> None:
        self.subnet_ids = tuple(dict.fromkeys(s for s, _ in self.fixed_ips))


@dataclass(slots=True)
class RouterRec:
    """What goal states need of a router."""

    id: str
    revision: int
    routes: tuple[tuple[str, str], ...]  # (destination, nexthop)
    admin_up: bool


@dataclass(slots=True)
class SgRec:
    """A security group and its rules."""

    id: str
    name: str
    revision: int
    rules: tuple[dict[str, Any], ...]

    @property
    def remote_groups(self) -> set[str]:
        """Return the groups its rules name as remote_group_id."""
        return {r["remote_group_id"] for r in self.rules if r.get("remote_group_id")}


@dataclass(slots=True)
class NodeRec:
    """A compute node as the southbound sees it."""

    id: str
    name: str
    local_ip: str
    server_port: int
    mac: str
    data_ip: str
    dvr_mac: str
    transport: str
    grpc_api: str
    mq_topic: str | None
    subscribe_port: int | None
    agent_type: str


# The port attributes set_port reads: the start-up load asks the store for these only.
PORT_FIELDS = (
    "id",
    "network_id",
    "project_id",
    "name",
    "mac_address",
    "device_id",
    "device_owner",
    "fixed_ips",
    "allowed_address_pairs",
    "security_groups",
    "binding:vif_type",
    "binding:host_id",
    "admin_state_up",
    "revision_number",
    "neighbor_revision",
    "extra_dhcp_opts",
)


@dataclass
class Topology:
    """The committed network, indexed for goal-state computation."""

    networks: dict[str, NetworkRec] = field(default_factory=dict)
    subnets: dict[str, SubnetRec] = field(default_factory=dict)
    ports: dict[str, PortRec] = field(default_factory=dict)
    routers: dict[str, RouterRec] = field(default_factory=dict)
    sgs: dict[str, SgRec] = field(default_factory=dict)
    nodes: dict[str, NodeRec] = field(default_factory=dict)
    node_by_name: dict[str, str] = field(default_factory=dict)
    node_by_ip: dict[str, str] = field(default_factory=dict)
    # bound ports (any admin state) per subnet and per node
    bound_in_subnet: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    ports_on_node: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    bound_in_network: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # network -> node -> how many of its bound ports are there (hosts of a VPC, no scan)
    hosts_in_network: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    subnets_of_router: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    network_by_vni: dict[int, str] = field(default_factory=dict)
    # (vni, ip) -> bound port owning it (fixed IP or allowed address pair): ON_DEMAND lookups
    address_owner: dict[tuple[int, str], str] = field(default_factory=dict)

    # ---- networks, subnets, routers, groups, nodes ----------------------------------------
    def set_network(self, net: dict[str, Any]) -> None:
        """Insert or replace a network."""
        old = self.networks.get(net["id"])
        if old is not None:
            self.network_by_vni.pop(old.seg_id, None)
        rec = NetworkRec(
            net["id"],
            net["project_id"],
            net["name"],
            net.get("cidr") or "",
            net.get("provider:segmentation_id") or 0,
            net.get("provider:network_type") or "vxlan",
            net["revision_number"],
        )
        self.networks[rec.id] = rec
        if rec.seg_id:
            self.network_by_vni[rec.seg_id] = rec.id

    def drop_network(self, network_id: str) -> None:
        """Forget a network."""
        rec = self.networks.pop(network_id, None)
        if rec is not None:
            self.network_by_vni.pop(rec.seg_id, None)

    def set_subnet(self, sub: dict[str, Any]) -> SubnetRec | None:
        """Insert or replace a subnet; return the previous record."""
        old = self.subnets.get(sub["id"])
        rec = SubnetRec(
            sub["id"],
            sub["network_id"],
            sub["name"],
            sub["cidr"],
            sub["ip_version"],
            sub.get("gateway_ip") or "",
            sub.get("gateway_mac") or "",
            bool(sub["enable_dhcp"]),
            tuple(sub.get("dns_nameservers") or ()),
            sub.get("attached_router_id"),
            sub["revision_number"],
        )
        if old is not None and old.router_id:
            self.subnets_of_router[old.router_id].discard(rec.id)
        if rec.router_id:
            self.subnets_of_router[rec.router_id].add(rec.id)
        self.subnets[rec.id] = rec
        return old

    def drop_subnet(self, subnet_id: str) -> None:
        """Forget a subnet."""
        old = self.subnets.pop(subnet_id, None)
        if old is not None and old.router_id:
            self.subnets_of_router[old.router_id].discard(subnet_id)
        self.bound_in_subnet.pop(subnet_id, None)

    def set_router(self, router: dict[str, Any]) -> None:
        """Insert or replace a router."""
        self.routers[router["id"]] = RouterRec(
            router["id"],
            router["revision_number"],
            tuple((r["destination"], r["nexthop"]) for r in router.get("routes") or ()),
            bool(router.get("admin_state_up", True)),
        )

    def drop_router(self, router_id: str) -> None:
        """Forget a router."""
        self.routers.pop(router_id, None)

    def set_sg(self, group: dict[str, Any]) -> None:
        """Insert or replace a security group (with its rules)."""
        self.sgs[group["id"]] = SgRec(
            group["id"],
            group["name"],
            group["revision_number"],
            tuple(group.get("security_group_rules") or ()),
        )

    def set_node(self, node: dict[str, Any]) -> NodeRec | None:
        """Insert or replace a node; return the previous record."""
        old = self.nodes.get(node["node_id"])
        if old is not None:
            self.node_by_name.pop(old.name, None)
            self.node_by_ip.pop(old.local_ip, None)
        rec = NodeRec(
            node["node_id"],
            node["node_name"],
            node["local_ip"],
            node["server_port"],
            node["mac_address"],
            node.get("data-path-ip") or node["local_ip"],
            node.get("host_dvr_mac") or "",
            node.get("transport") or "grpc",
            node.get("grpc_api") or "v2",
            node.get("mq_topic"),
            node.get("subscribe_port"),
            node.get("agent_type") or "aca",
        )
        self.nodes[rec.id] = rec
        self.node_by_name[rec.name] = rec.id
        self.node_by_ip[rec.local_ip] = rec.id
        return old

    def drop_node(self, node_id: str) -> None:
        """Forget a node."""
        old = self.nodes.pop(node_id, None)
        if old is not None:
            self.node_by_name.pop(old.name, None)
            self.node_by_ip.pop(old.local_ip, None)

    # ---- ports ---------------------------------------------------------------------------
    def set_port(self, port: dict[str, Any]) -> PortRec | None:
        """Insert or replace a port and its indexes; return the previous record."""
        old = self.ports.get(port["id"])
        if old is not None:
            self._unindex(old)
        node_id = None
        if port.get("binding:vif_type") == "ovs":
            node_id = self.node_by_name.get(port.get("binding:host_id") or "")
        rec = PortRec(
            port["id"],
            port["network_id"],
            port["project_id"],
            port.get("name") or "",
            port["mac_address"],
            port.get("device_id") or "",
            port.get("device_owner") or "",
            tuple((f["subnet_id"], f["ip_address"]) for f in port.get("fixed_ips") or ()),
            tuple(
                (p["ip_address"], p.get("mac_address") or port["mac_address"])
                for p in port.get("allowed_address_pairs") or ()
            ),
            tuple(port.get("security_groups") or ()),
            node_id,
            bool(port.get("admin_state_up", True)),
            port["revision_number"],
            port.get("neighbor_revision") or port["revision_number"],
            tuple(
                (o["opt_name"], str(o.get("opt_value") or ""), int(o.get("ip_version") or 4))
                for o in port.get("extra_dhcp_opts") or ()
            ),
        )
        self.ports[rec.id] = rec
        self._index(rec)
        return old

    def drop_port(self, port_id: str) -> PortRec | None:
        """Forget a port; return its last record."""
        old = self.ports.pop(port_id, None)
        if old is not None:
            self._unindex(old)
        return old

    def _index(self, rec: PortRec) -> None:
        if rec.node_id is None:
            return
        self.ports_on_node[rec.node_id].add(rec.id)
        self.bound_in_network[rec.network_id].add(rec.id)
        hosts = self.hosts_in_network[rec.network_id]
        hosts[rec.node_id] = hosts.get(rec.node_id, 0) + 1
        for subnet_id in rec.subnet_ids:
            self.bound_in_subnet[subnet_id].add(rec.id)
        vni = self._vni(rec.network_id)
        for _, ip in rec.fixed_ips:
            self.address_owner[(vni, ip)] = rec.id
        for ip, _ in rec.pairs:
            self.address_owner.setdefault((vni, ip), rec.id)

    def _unindex(self, rec: PortRec) -> None:
        if rec.node_id is None:
            return
        self.ports_on_node[rec.node_id].discard(rec.id)
        self.bound_in_network[rec.network_id].discard(rec.id)
        hosts = self.hosts_in_network[rec.network_id]
        if hosts.get(rec.node_id, 0) <= 1:
            hosts.pop(rec.node_id, None)
        else:
            hosts[rec.node_id] -= 1
        for subnet_id in rec.subnet_ids:
            self.bound_in_subnet[subnet_id].discard(rec.id)
        vni = self._vni(rec.network_id)
        for ip in [ip for _, ip in rec.fixed_ips] + [ip for ip, _ in rec.pairs]:
            if self.address_owner.get((vni, ip)) == rec.id:
                del self.address_owner[(vni, ip)]

    def _vni(self, network_id: str) -> int:
        net = self.networks.get(network_id)
        return net.seg_id if net is not None else 0

    def bound(self, port: PortRec | None) -> bool:
        """Return True for a port programmed somewhere (bound to a registered node)."""
        return port is not None and port.node_id is not None
