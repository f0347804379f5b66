"""The data plane's in-memory picture of the committed network, with the indexes it needs.

Goal-state work must not scan: "which hosts hold subnet S", "which bound ports are in S",
"which port owns (vni, ip)" are dict lookups here. The picture is loaded once at start and
then follows committed events in commit order.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from alcor.southbound.records import (
    AclRec,
    AclRule,
    FipRec,
    GatewayRec,
    NetworkRec,
    NodeRec,
    PfRec,
    PortRec,
    QosRec,
    QosRule,
    RouterRec,
    SgRec,
    SubnetRec,
    SubportRec,
    ZetaGatewayRec,
)

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
    "port_security_enabled",
    "qos_policy_id",
)
# The rule fields of a QoS policy's rules a host needs (absent in a type: 0).
_QOS_RULE_FIELDS = ("max_kbps", "max_burst_kbps", "dscp_mark", "min_kbps", "min_kpps")
SUBPORT_OWNER = "trunk:subport"


def address_group_rules(rule: dict[str, Any], addresses: Iterable[str]) -> list[dict[str, Any]]:
    """Return a rule naming an address group as one rule per address of its ethertype (an
    empty group matches nothing); each keeps a stable id derived from the rule's."""
    version = 6 if rule.get("ethertype") == "IPv6" else 4
    out = []
    for address in addresses:
        network = ipaddress.ip_network(address, strict=False)
        if network.version != version:
            continue
        out.append(
            {
                **rule,
                "id": str(uuid.uuid5(uuid.UUID(rule["id"]), str(network))),
                "remote_ip_prefix": str(network),
                "remote_address_group_id": None,
            }
        )
    return out


def _port_range(span: str) -> tuple[int, int]:
    first, _, last = span.partition(":")
    return int(first), int(last or first)


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
    # subnet -> other subnet -> how many bound ports have fixed IPs in both (dual stack
    # mostly): the contexts a host reaching the first needs for its neighbors
    co_subnets: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    # subnets whose co-subnets appeared or went since the planner last looked
    co_subnets_changed: set[str] = field(default_factory=set)
    # network -> node -> how many of its bound ports are there (hosts of a VPC, no scan)
    hosts_in_network: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    subnets_of_router: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    network_by_vni: dict[int, str] = field(default_factory=dict)
    # (vni, ip) -> bound port owning it (fixed IP or allowed address pair): ON_DEMAND lookups
    address_owner: dict[tuple[int, str], str] = field(default_factory=dict)
    acls: dict[str, AclRec] = field(default_factory=dict)
    acl_of_subnet: dict[str, str] = field(default_factory=dict)
    fips: dict[str, FipRec] = field(default_factory=dict)
    fips_of_port: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    fip_by_address: dict[str, str] = field(default_factory=dict)
    pfs: dict[str, PfRec] = field(default_factory=dict)
    pfs_of_port: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    pfs_by_address: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    gateways: dict[str, ZetaGatewayRec] = field(default_factory=dict)
    gateways_of_vpc: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    qos_policies: dict[str, QosRec] = field(default_factory=dict)
    subports: dict[str, SubportRec] = field(default_factory=dict)  # subport id -> its VLAN
    subports_of_trunk: dict[str, tuple[str, ...]] = field(default_factory=dict)

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
            tuple(net.get("gateway_ids") or ()),
            net.get("qos_policy_id") or "",
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
            self._gateway(router),
        )

    def _gateway(self, router: dict[str, Any]) -> GatewayRec | None:
        info = router.get("external_gateway_info") or {}
        fixed = info.get("external_fixed_ips") or []
        if not info.get("network_id") or not fixed:
            return None
        return GatewayRec(
            info["network_id"],
            fixed[0].get("subnet_id") or "",
            fixed[0].get("ip_address") or "",
            router.get("gw_port_id") or "",
            bool(info.get("enable_snat", True)),
        )

    # ---- Zeta gateways -----------------------------------------------------------------------
    def set_gateway(self, gateway: ZetaGatewayRec) -> ZetaGatewayRec | None:
        """Insert or replace a VPC's gateway; return the previous record."""
        old = self.drop_gateway(gateway.id)
        self.gateways[gateway.id] = gateway
        self.gateways_of_vpc[gateway.vpc_id].add(gateway.id)
        return old

    def drop_gateway(self, gateway_id: str) -> ZetaGatewayRec | None:
        """Forget a gateway; return its last record."""
        old = self.gateways.pop(gateway_id, None)
        if old is not None:
            self.gateways_of_vpc[old.vpc_id].discard(gateway_id)
        return old

    # ---- network ACLs and floating IPs (alcor agents only) ----------------------------------
    def set_acl(self, acl: dict[str, Any]) -> AclRec | None:
        """Insert or replace an ACL with its rules; return the previous record."""
        old = self.drop_acl(acl["id"])
        rules = tuple(
            AclRule(
                r["id"],
                r["number"],
                r["direction"],
                r.get("ether_type") or "IPv4",
                r.get("protocol") or "all",
                r.get("ip_prefix") or ("::/0" if r.get("ether_type") == "IPv6" else "0.0.0.0/0"),
                r.get("port_range_min"),
                r.get("port_range_max"),
                r.get("icmp_type"),
                r.get("icmp_code"),
                r["action"],
            )
            for r in sorted(acl.get("network_acl_rules") or (), key=lambda r: r["number"])
        )
        rec = AclRec(
            acl["id"],
            acl["vpc_id"],
            acl.get("name") or "",
            acl["revision_number"],
            tuple(acl.get("associated_subnets") or ()),
            rules,
        )
        self.acls[rec.id] = rec
        for subnet in rec.subnets:
            self.acl_of_subnet[subnet] = rec.id
        return old

    def drop_acl(self, acl_id: str) -> AclRec | None:
        """Forget an ACL; return its last record."""
        old = self.acls.pop(acl_id, None)
        if old is not None:
            for subnet in old.subnets:
                if self.acl_of_subnet.get(subnet) == acl_id:
                    del self.acl_of_subnet[subnet]
        return old

    def set_fip(self, fip: dict[str, Any]) -> FipRec | None:
        """Insert or replace a floating IP (only associated ones are kept); return the old."""
        old = self.drop_fip(fip["id"])
        if fip.get("port_id"):
            rec = FipRec(
                fip["id"],
                fip["revision_number"],
                fip["floating_ip_address"],
                fip.get("fixed_ip_address") or "",
                fip["port_id"],
                fip.get("router_id") or "",
                fip["floating_network_id"],
            )
            self.fips[rec.id] = rec
            self.fips_of_port[rec.port_id].add(rec.id)
            self.fip_by_address[rec.address] = rec.id
        return old

    def drop_fip(self, fip_id: str) -> FipRec | None:
        """Forget a floating IP; return its last record."""
        old = self.fips.pop(fip_id, None)
        if old is not None:
            self.fips_of_port[old.port_id].discard(fip_id)
            if self.fip_by_address.get(old.address) == fip_id:
                del self.fip_by_address[old.address]
        return old

    # ---- QoS policies and trunks (alcor agents only) ----------------------------------------
    def set_qos(self, policy: dict[str, Any]) -> None:
        """Insert or replace a QoS policy with its rules (as the QoS manager shows them)."""
        rules = tuple(
            QosRule(
                r["id"],
                r["type"],
                r.get("direction") or "",
                *(int(r.get(name) or 0) for name in _QOS_RULE_FIELDS),
            )
            for r in sorted(policy.get("rules") or (), key=lambda r: (r["type"], r["id"]))
        )
        self.qos_policies[policy["id"]] = QosRec(
            policy["id"], policy.get("name") or "", policy["revision_number"], rules
        )

    def drop_qos(self, policy_id: str) -> None:
        """Forget a QoS policy."""
        self.qos_policies.pop(policy_id, None)

    def qos_of_port(self, port: PortRec) -> str | None:
        """Return the policy that applies to a port: its own, else its network's unless it is
        a network-owned port (Neutron's rule); None without one (or an unknown one)."""
        policy = port.qos_policy_id
        if not policy and not port.device_owner.startswith("network:"):
            net = self.networks.get(port.network_id)
            policy = net.qos_policy_id if net is not None else ""
        return policy if policy in self.qos_policies else None

    def set_trunk(self, trunk: dict[str, Any]) -> set[str]:
        """Insert or replace a trunk's subports; return every subport it had or has."""
        touched = set(self.drop_trunk(trunk["id"]))
        ids = []
        for sub in trunk.get("sub_ports") or ():
            self.subports[sub["port_id"]] = SubportRec(
                trunk["id"], trunk["port_id"], sub["segmentation_type"], sub["segmentation_id"]
            )
            ids.append(sub["port_id"])
        self.subports_of_trunk[trunk["id"]] = tuple(ids)
        return touched | set(ids)

    def drop_trunk(self, trunk_id: str) -> tuple[str, ...]:
        """Forget a trunk's subports; return them."""
        ids = self.subports_of_trunk.pop(trunk_id, ())
        for port_id in ids:
            sub = self.subports.get(port_id)
            if sub is not None and sub.trunk_id == trunk_id:
                del self.subports[port_id]
        return ids

    def subport(self, port: PortRec) -> SubportRec | None:
        """Return a subport's VLAN while the port says it is the trunk's subport."""
        sub = self.subports.get(port.id)
        if sub is None or port.device_owner != SUBPORT_OWNER or port.device_id != sub.trunk_id:
            return None
        return sub

    def set_pf(self, pf: dict[str, Any]) -> PfRec | None:
        """Insert or replace a port forwarding; return the previous record."""
        old = self.drop_pf(pf["id"])
        rec = PfRec(
            pf["id"],
            pf.get("sb_revision") or 1,
            pf["floatingip_id"],
            pf["floating_ip_address"],
            pf["protocol"],
            _port_range(pf["external_port_range"]),
            pf["internal_port_id"],
            pf["internal_ip_address"],
            _port_range(pf["internal_port_range"]),
            pf.get("router_id") or "",
        )
        self.pfs[rec.id] = rec
        self.pfs_of_port[rec.internal_port_id].add(rec.id)
        self.pfs_by_address[rec.address].add(rec.id)
        return old

    def drop_pf(self, pf_id: str) -> PfRec | None:
        """Forget a port forwarding; return its last record."""
        old = self.pfs.pop(pf_id, None)
        if old is not None:
            self.pfs_of_port[old.internal_port_id].discard(pf_id)
            self.pfs_by_address[old.address].discard(pf_id)
        return old

    def drop_router(self, router_id: str) -> None:
        """Forget a router."""
        self.routers.pop(router_id, None)

    def set_sg(
        self, group: dict[str, Any], address_groups: dict[str, list[str]] | None = None
    ) -> None:
        """Insert or replace a security group (with its rules); a rule naming an address
        group becomes one rule per address of its ethertype, as hosts match them."""
        rules: list[dict[str, Any]] = []
        for rule in group.get("security_group_rules") or ():
            ag_id = rule.get("remote_address_group_id")
            if ag_id:
                rules.extend(address_group_rules(rule, (address_groups or {}).get(ag_id, ())))
            else:
                rules.append(rule)
        self.sgs[group["id"]] = SgRec(
            group["id"], group["name"], group["revision_number"], tuple(rules)
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
            port.get("port_security_enabled") is not False,
            qos_policy_id=port.get("qos_policy_id") or "",
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
        self._count_co_subnets(rec.subnet_ids, 1)
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
        self._count_co_subnets(rec.subnet_ids, -1)
        vni = self._vni(rec.network_id)
        for ip in [ip for _, ip in rec.fixed_ips] + [ip for ip, _ in rec.pairs]:
            if self.address_owner.get((vni, ip)) == rec.id:
                del self.address_owner[(vni, ip)]

    def _count_co_subnets(self, subnets: tuple[str, ...], step: int) -> None:
        if len(subnets) < 2:
            return
        for s in subnets:
            counts = self.co_subnets[s]
            for t in subnets:
                if t == s:
                    continue
                n = counts.get(t, 0) + step
                if n > 0:
                    counts[t] = n
                else:
                    counts.pop(t, None)
                if n in (0, 1) and (step > 0) == (n == 1):
                    self.co_subnets_changed.add(s)

    def _vni(self, network_id: str) -> int:
        net = self.networks.get(network_id)
        return net.seg_id if net is not None else 0

    def bound(self, port: PortRec | None) -> bool:
        """Return True for a port programmed somewhere (bound to a registered node)."""
        return port is not None and port.node_id is not None
