"""Goal-state content (southbound spec §3.2): configurations encoded once per revision.

A state on the wire is `XState{operation_type=1, configuration=2}`. The configuration is
encoded once per (resource, revision) and cached; the state bytes for an operation are the
op field prepended to those bytes, so one neighbor encoded once serves a thousand hosts.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable
from typing import Any

import betterproto

from alcor.proto import schema
from alcor.southbound import encoding, extensions, fastwire
from alcor.southbound.records import NodeRec, PortRec
from alcor.southbound.topology import Topology
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
    port_of_neighbor,
    vpc_gateways,
)

RT = schema.ResourceType
OP = schema.OperationType
KIND_TYPE = {
    VPC: RT.VPC,
    SUBNET: RT.SUBNET,
    PORT: RT.PORT,
    NEIGHBOR: RT.NEIGHBOR,
    SECURITYGROUP: RT.SECURITYGROUP,
    DHCP: RT.DHCP,
    ROUTER: RT.ROUTER,
    GATEWAY: RT.GATEWAY,
    NETWORK_ACL: RT.NETWORK_ACL,
    FLOATINGIP: RT.FLOATINGIP,
    QOS_POLICY: RT.QOS_POLICY,
    PORT_FORWARDING: RT.PORT_FORWARDING,
}
TYPE_KIND = {v: k for k, v in KIND_TYPE.items()}
NET_TYPES = {
    "vxlan": schema.NetworkType.VXLAN,
    "vlan": schema.NetworkType.VLAN,
    "gre": schema.NetworkType.GRE,
    "geneve": schema.NetworkType.GENEVE,
    "flat": schema.NetworkType.VLAN,
}
ENTER_OP = {
    PORT: OP.CREATE,
    DHCP: OP.CREATE,
    NEIGHBOR: OP.CREATE,
    ROUTER: OP.CREATE,
    SECURITYGROUP: OP.CREATE,
    SUBNET: OP.INFO,
    VPC: OP.INFO,
    GATEWAY: OP.INFO,
    NETWORK_ACL: OP.CREATE,
    FLOATINGIP: OP.CREATE,
    QOS_POLICY: OP.CREATE,
    PORT_FORWARDING: OP.CREATE,
}
CHANGE_OP = {
    PORT: OP.CREATE,
    DHCP: OP.UPDATE,
    NEIGHBOR: OP.UPDATE,
    ROUTER: OP.UPDATE,
    SECURITYGROUP: OP.UPDATE,
    SUBNET: OP.INFO,
    VPC: OP.INFO,
    GATEWAY: OP.INFO,
    NETWORK_ACL: OP.UPDATE,
    FLOATINGIP: OP.UPDATE,
    QOS_POLICY: OP.UPDATE,
    PORT_FORWARDING: OP.UPDATE,
}
FULL = schema.UpdateType.FULL
PROTOCOLS = {
    "tcp": schema.Protocol.TCP,
    "6": schema.Protocol.TCP,
    "udp": schema.Protocol.UDP,
    "17": schema.Protocol.UDP,
    "icmp": schema.Protocol.ICMP,
    "1": schema.Protocol.ICMP,
    "ipv6-icmp": schema.Protocol.ICMP,
    "icmpv6": schema.Protocol.ICMP,
    "58": schema.Protocol.ICMP,
}


def state_bytes(op: int, config: bytes) -> bytes:
    """Return `XState{operation_type=op, configuration=config}` from encoded config bytes."""
    head = b"\x08" + encoding.varint(op) if op else b""
    return b"".join((head, b"\x12", encoding.varint(len(config)), config))


def _v4_first(fixed_ips: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    # Stored addresses are canonical: only IPv6 ones contain ":" (no parse per build).
    if len(fixed_ips) < 2:
        return list(fixed_ips)
    return sorted(fixed_ips, key=lambda f: ":" in f[1])


class StateBuilder:
    """Build and cache the encoded configuration of every state kind."""

    def __init__(self, topo: Topology) -> None:
        self._topo = topo
        self._configs: dict[tuple[str, str, str], tuple[int, bytes]] = {}
        self._entries: dict[tuple[str, str, int, int], bytes] = {}
        self._resource_ids: dict[tuple[int, str], bytes] = {}
        self._builders: dict[str, Callable[[str, NodeRec], tuple[int, Any] | None]] = {
            VPC: self._vpc,
            SUBNET: self._subnet,
            PORT: self._port,
            DHCP: self._dhcp,
            NEIGHBOR: self._neighbor,
            ROUTER: self._router,
            SECURITYGROUP: self._sg,
            NETWORK_ACL: self._acl,
            FLOATINGIP: self._fip,
            QOS_POLICY: self._qos,
            PORT_FORWARDING: self._pf,
            GATEWAY: self._gateway,
        }

    def revision(self, kind: str, key: str) -> int | None:
        """Return the current revision of a state, or None if the resource is gone."""
        topo = self._topo
        if kind in (PORT, DHCP):
            port = topo.ports.get(key)
            return port.revision if port else None
        if kind == NEIGHBOR:
            port = topo.ports.get(port_of_neighbor(key))
            return port.neighbor_revision if port else None
        tables: dict[str, dict[str, Any]] = {
            VPC: topo.networks,
            SUBNET: topo.subnets,
            ROUTER: topo.routers,
            SECURITYGROUP: topo.sgs,
            NETWORK_ACL: topo.acls,
            FLOATINGIP: topo.fips,
            QOS_POLICY: topo.qos_policies,
            PORT_FORWARDING: topo.pfs,
            GATEWAY: topo.gateways,
        }
        rec = tables.get(kind, {}).get(key)
        return rec.revision if rec is not None else None

    def config(self, kind: str, key: str, node: NodeRec) -> tuple[int, bytes] | None:
        """Return (revision, encoded configuration) of the current state, cached."""
        variant = self._variant(kind, key, node)
        revision = self.revision(kind, key)
        if revision is None:
            return None
        cached = self._configs.get((kind, key, variant))
        if cached is not None and cached[0] == revision:
            return cached
        built = self._builders[kind](key, node)
        if built is None:
            return None
        data = built[1]
        encoded = (revision, data if isinstance(data, bytes) else bytes(data))
        self._configs[(kind, key, variant)] = encoded
        return encoded

    def _variant(self, kind: str, key: str, node: NodeRec) -> str:
        """Name what a state's content depends on besides the resource: a router's host DVR
        MAC; a port's alcor extensions (QoS, trunk), which only alcor agents receive."""
        if kind == ROUTER:
            return node.dvr_mac
        if kind == PORT and node.agent_type == "alcor" and self._port_extended(key):
            return "alcor"
        return ""

    def _port_extended(self, port_id: str) -> bool:
        port = self._topo.ports.get(port_id)
        return port is not None and (
            bool(port.qos_policy_id) or self._topo.subport(port) is not None
        )

    def entry(self, kind: str, key: str, op: int, revision: int, config: bytes) -> bytes:
        """Return the GoalStateV2 map entry for a state (cached for host-independent kinds)."""
        if kind == ROUTER or (kind == PORT and self._port_extended(key)):
            return encoding.v2_entry(KIND_TYPE[kind], key, state_bytes(op, config))
        cache_key = (kind, key, op, revision)
        cached = self._entries.get(cache_key)
        if cached is None:
            cached = encoding.v2_entry(KIND_TYPE[kind], key, state_bytes(op, config))
            self._entries[cache_key] = cached
        return cached

    def neighbor_entry(self, port: PortRec, key: str, op: int) -> tuple[bytes, bytes]:
        """Return (map entry, configuration) of a port's neighbor state, cached per revision."""
        cache_key = (NEIGHBOR, key, op, port.neighbor_revision)
        entry = self._entries.get(cache_key)
        built = self.config(NEIGHBOR, key, _ANY_NODE)
        assert built is not None
        if entry is None:
            entry = encoding.v2_entry(RT.NEIGHBOR, key, state_bytes(op, built[1]))
            self._entries[cache_key] = entry
        return entry, built[1]

    def resource_entry(self, rtype: int, key: str) -> bytes:
        """Return the cached HostResources entry naming one state."""
        cached = self._resource_ids.get((rtype, key))
        if cached is None:
            cached = encoding.resource_id_entry(rtype, key)
            self._resource_ids[(rtype, key)] = cached
        return cached

    def delete_config(self, kind: str, key: str, revision: int) -> bytes:
        """Return the configuration of a DELETE: id and revision (plus FULL)."""
        rid = port_of_neighbor(key) if kind == NEIGHBOR else key
        cls = {
            VPC: schema.VpcConfiguration,
            SUBNET: schema.SubnetConfiguration,
            PORT: schema.PortConfiguration,
            DHCP: schema.DhcpConfiguration,
            NEIGHBOR: schema.NeighborConfiguration,
            ROUTER: schema.RouterConfiguration,
            SECURITYGROUP: schema.SecurityGroupConfiguration,
            NETWORK_ACL: schema.NetworkAclConfiguration,
            FLOATINGIP: schema.FloatingIpConfiguration,
            QOS_POLICY: schema.QosPolicyConfiguration,
            PORT_FORWARDING: schema.PortForwardingConfiguration,
        }.get(kind)
        if cls is None:  # a gateway has no update_type
            return bytes(schema.GatewayConfiguration(revision_number=revision, id=rid))
        return bytes(cls(revision_number=revision, id=rid, update_type=FULL))

    def forget(self, kind: str, key: str) -> None:
        """Drop cached encodings of a deleted resource."""
        for variant_key in [k for k in self._configs if k[0] == kind and k[1] == key]:
            del self._configs[variant_key]

    def trim(self, limit: int = 500_000) -> None:
        """Bound the entry cache (old revisions accumulate)."""
        if len(self._entries) > limit:
            self._entries.clear()
        if len(self._resource_ids) > limit:
            self._resource_ids.clear()

    # ---- per kind --------------------------------------------------------------------
    def _vpc(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        net = self._topo.networks.get(key)
        if net is None:
            return None
        return net.revision, fastwire.vpc(
            net.revision,
            net.id,
            net.project_id,
            net.name,
            net.cidr,
            net.seg_id,
            vpc_gateways(self._topo, net.id),
            net.qos_policy_id,
        )

    def _gateway(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        gateway = self._topo.gateways.get(key)
        return None if gateway is None else (gateway.revision, extensions.zeta_config(gateway))

    def _subnet(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        sub = self._topo.subnets.get(key)
        net = self._topo.networks.get(sub.network_id) if sub else None
        if sub is None or net is None:
            return None
        return sub.revision, fastwire.subnet(
            sub.revision,
            sub.id,
            NET_TYPES.get(net.net_type, schema.NetworkType.VXLAN),
            net.id,
            sub.name,
            sub.cidr,
            net.seg_id,
            sub.gateway_ip,
            sub.gateway_mac,
            sub.dhcp,
            sub.dns,
            "nova",
        )

    def _port(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        port = self._topo.ports.get(key)
        if port is None:
            return None
        qos, trunk = "", None
        if node.agent_type == "alcor":
            qos = port.qos_policy_id
            sub = self._topo.subport(port)
            if sub is not None:
                trunk = (sub.parent_port_id, sub.segmentation_type, sub.segmentation_id)
        return port.revision, fastwire.port(
            port.revision,
            port.id,
            port.network_id,
            port.name,
            port.device_id,
            port.device_owner,
            port.mac,
            _v4_first(port.fixed_ips),
            port.pairs,
            port.sgs,
            not port.security,
            qos,
            trunk,
        )

    def _dhcp(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        port = self._topo.ports.get(key)
        if port is None:
            return None
        v4 = [(s, ip) for s, ip in port.fixed_ips if ":" not in ip]
        v6 = [(s, ip) for s, ip in port.fixed_ips if ":" in ip]
        first = (v4 or v6 or [("", "")])[0]
        return port.revision, fastwire.dhcp(
            port.revision,
            port.id,
            first[0],
            port.mac,
            v4[0][1] if v4 else "",
            v6[0][1] if v6 else "",
            f"host-{first[1].replace('.', '-').replace(':', '-')}",
            port.dhcp_opts,
        )

    def neighbor_config(self, port: PortRec) -> bytes:
        """Return the encoded NeighborConfiguration of a bound port (same for every host)."""
        topo = self._topo
        node = topo.nodes.get(port.node_id) if port.node_id else None
        fixed = []
        for subnet_id, ip in port.fixed_ips:
            sub = topo.subnets.get(subnet_id)
            net = topo.networks.get(sub.network_id) if sub else None
            l3 = sub is not None and sub.router_id is not None
            fixed.append(
                (
                    schema.NeighborType.L3 if l3 else schema.NeighborType.L2,
                    subnet_id,
                    ip,
                    net.seg_id if net else 0,
                )
            )
        return fastwire.neighbor(
            port.neighbor_revision,
            port.id,
            port.network_id,
            port.name,
            port.mac,
            node.mac if node else "",
            node.data_ip if node else "",
            fixed,
            port.pairs,
            port.sgs,
        )

    def _neighbor(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        port = self._topo.ports.get(port_of_neighbor(key))
        if port is None or port.node_id is None:
            return None
        return port.neighbor_revision, self.neighbor_config(port)

    def _router(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        topo = self._topo
        router = topo.routers.get(key)
        if router is None:
            return None
        subnets = sorted(s for s in topo.subnets_of_router.get(key, ()) if s in topo.subnets)
        rules = [self._routing_rule(key, dest, hop, subnets) for dest, hop in router.routes]
        config = schema.RouterConfiguration(
            revision_number=router.revision,
            id=key,
            update_type=FULL,
            host_dvr_mac_address=node.dvr_mac,
            subnet_routing_tables=[
                schema.RouterConfigurationSubnetRoutingTable(subnet_id=s, routing_rules=rules)
                for s in subnets
            ],
        )
        gateway = extensions.gateway_config(topo, router.gateway)
        if gateway is not None:
            config.external_gateway = gateway
        return router.revision, config

    def _acl(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        acl = self._topo.acls.get(key)
        return None if acl is None else (acl.revision, extensions.acl_config(acl))

    def _fip(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        fip = self._topo.fips.get(key)
        return None if fip is None else (fip.revision, extensions.fip_config(fip))

    def _qos(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        policy = self._topo.qos_policies.get(key)
        return None if policy is None else (policy.revision, extensions.qos_config(policy))

    def _pf(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        pf = self._topo.pfs.get(key)
        return None if pf is None else (pf.revision, extensions.pf_config(pf))

    def _routing_rule(
        self, router_id: str, destination: str, nexthop: str, subnets: list[str]
    ) -> Any:
        topo = self._topo
        mac = ""
        hop = ipaddress.ip_address(nexthop)
        for subnet_id in subnets:
            sub = topo.subnets[subnet_id]
            if hop in ipaddress.ip_network(sub.cidr):
                owner = topo.address_owner.get((topo._vni(sub.network_id), nexthop))
                if owner is not None:
                    mac = topo.ports[owner].mac
                break
        return schema.RouterConfigurationRoutingRule(
            operation_type=OP.CREATE,
            id=str(uuid.uuid5(uuid.UUID(router_id), f"{destination}|{nexthop}")),
            destination=destination,
            next_hop_ip=nexthop,
            priority=0,
            routing_rule_extra_info=schema.RouterConfigurationRoutingRuleExtraInfo(
                destination_type=schema.DestinationType.VPC_GW, next_hop_mac=mac
            ),
        )

    def _sg(self, key: str, node: NodeRec) -> tuple[int, Any] | None:
        group = self._topo.sgs.get(key)
        if group is None:
            return None
        rules = []
        for rule in group.rules:
            rules.extend(_wire_rules(key, rule))
        return group.revision, schema.SecurityGroupConfiguration(
            revision_number=group.revision,
            id=key,
            update_type=FULL,
            vpc_id="",
            name=group.name,
            security_group_rules=rules,
        )


def _wire_rules(group_id: str, rule: dict[str, Any]) -> list[Any]:
    """Map one Neutron rule; "any protocol" expands to TCP, UDP and ICMP (§1.3)."""
    protocol = rule.get("protocol")
    if protocol is None:
        expanded = [
            (schema.Protocol.TCP, "tcp"),
            (schema.Protocol.UDP, "udp"),
            (schema.Protocol.ICMP, "icmp"),
        ]
        ids = [str(uuid.uuid5(uuid.UUID(rule["id"]), name)) for _, name in expanded]
        protos = [p for p, _ in expanded]
    elif protocol in PROTOCOLS:
        ids, protos = [rule["id"]], [PROTOCOLS[protocol]]
    else:
        return []  # not representable in the wire schema
    direction = (
        schema.SecurityGroupConfigurationDirection.INGRESS
        if rule["direction"] == "ingress"
        else schema.SecurityGroupConfigurationDirection.EGRESS
    )
    ethertype = schema.EtherType.IPV6 if rule.get("ethertype") == "IPv6" else schema.EtherType.IPV4
    return [
        schema.SecurityGroupConfigurationSecurityGroupRule(
            operation_type=OP.CREATE,
            security_group_id=group_id,
            id=rid,
            direction=direction,
            ethertype=ethertype,
            protocol=proto,
            port_range_min=rule.get("port_range_min") or 0,
            port_range_max=rule.get("port_range_max") or 0,
            remote_ip_prefix=rule.get("remote_ip_prefix") or "",
            remote_group_id=rule.get("remote_group_id") or "",
        )
        for rid, proto in zip(ids, protos, strict=True)
    ]


# Neighbor content does not depend on the receiving host.
_ANY_NODE = NodeRec("", "", "", 0, "", "", "", "", "", None, None, "")


def resource_id(kind: str, key: str) -> str:
    """Return the id a reply names for a state (neighbors answer with the port id)."""
    return port_of_neighbor(key) if kind == NEIGHBOR else key


__all__ = [
    "CHANGE_OP",
    "ENTER_OP",
    "KIND_TYPE",
    "TYPE_KIND",
    "StateBuilder",
    "betterproto",
    "resource_id",
    "state_bytes",
]
