"""Configurations of alcor's extension kinds: network ACLs, floating IPs, QoS policies,
router gateways.

Additive to the original contract (new field numbers and map fields): only agents of type
`alcor` receive the new kinds; a router's external gateway is a new field ACA ignores.
"""

from __future__ import annotations

from alcor.proto import schema
from alcor.southbound.records import AclRec, FipRec, GatewayRec, PfRec, QosRec, ZetaGatewayRec
from alcor.southbound.topology import Topology

FULL = schema.UpdateType.FULL
_DIRECTION = {
    "ingress": schema.NetworkAclConfigurationDirection.INGRESS,
    "egress": schema.NetworkAclConfigurationDirection.EGRESS,
}
_ACTION = {
    "allow": schema.NetworkAclConfigurationAction.ALLOW,
    "deny": schema.NetworkAclConfigurationAction.DENY,
}


def acl_config(acl: AclRec) -> schema.NetworkAclConfiguration:
    """Return an ACL's state configuration (rules lowest number first)."""
    return schema.NetworkAclConfiguration(
        revision_number=acl.revision,
        id=acl.id,
        update_type=FULL,
        vpc_id=acl.vpc_id,
        name=acl.name,
        subnet_ids=list(acl.subnets),
        rules=[
            schema.NetworkAclConfigurationRule(
                id=r.id,
                number=r.number,
                direction=_DIRECTION[r.direction],
                ethertype=schema.EtherType.IPV6 if r.ethertype == "IPv6" else schema.EtherType.IPV4,
                protocol=r.protocol,
                ip_prefix=r.prefix,
                port_range_min=r.port_min or 0,
                port_range_max=r.port_max or 0,
                icmp_type=-1 if r.icmp_type is None else r.icmp_type,
                icmp_code=-1 if r.icmp_code is None else r.icmp_code,
                action=_ACTION[r.action],
            )
            for r in acl.rules
        ],
    )


def fip_config(fip: FipRec) -> schema.FloatingIpConfiguration:
    """Return a floating IP's state configuration."""
    return schema.FloatingIpConfiguration(
        revision_number=fip.revision,
        id=fip.id,
        update_type=FULL,
        floating_ip_address=fip.address,
        fixed_ip_address=fip.fixed_ip,
        port_id=fip.port_id,
        router_id=fip.router_id,
        floating_network_id=fip.network_id,
    )


def qos_config(policy: QosRec) -> schema.QosPolicyConfiguration:
    """Return a QoS policy's state configuration (rules by type, then id)."""
    return schema.QosPolicyConfiguration(
        revision_number=policy.revision,
        id=policy.id,
        update_type=FULL,
        name=policy.name,
        rules=[
            schema.QosPolicyConfigurationRule(
                id=r.id,
                type=r.type,
                direction=r.direction,
                max_kbps=r.max_kbps,
                max_burst_kbps=r.max_burst_kbps,
                dscp_mark=r.dscp_mark,
                min_kbps=r.min_kbps,
                min_kpps=r.min_kpps,
            )
            for r in policy.rules
        ],
    )


def pf_config(pf: PfRec) -> schema.PortForwardingConfiguration:
    """Return a port forwarding's state configuration."""
    return schema.PortForwardingConfiguration(
        revision_number=pf.revision,
        id=pf.id,
        update_type=FULL,
        floatingip_id=pf.fip_id,
        floating_ip_address=pf.address,
        protocol=pf.protocol,
        external_port_min=pf.external[0],
        external_port_max=pf.external[1],
        internal_port_id=pf.internal_port_id,
        internal_ip_address=pf.internal_ip,
        internal_port_min=pf.internal[0],
        internal_port_max=pf.internal[1],
        router_id=pf.router_id,
    )


def gateway_config(
    topo: Topology, gateway: GatewayRec | None
) -> schema.RouterConfigurationExternalGateway | None:
    """Return a router's external gateway field, or None without a gateway."""
    if gateway is None:
        return None
    subnet = topo.subnets.get(gateway.subnet_id)
    port = topo.ports.get(gateway.port_id)
    return schema.RouterConfigurationExternalGateway(
        network_id=gateway.network_id,
        subnet_id=gateway.subnet_id,
        ip_address=gateway.ip,
        mac_address=port.mac if port is not None else "",
        snat_enabled=gateway.snat,
        cidr=subnet.cidr if subnet is not None else "",
    )


def zeta_config(gateway: ZetaGatewayRec) -> schema.GatewayConfiguration:
    """Return a VPC's Zeta GatewayState configuration (southbound spec §8.3)."""
    return schema.GatewayConfiguration(
        revision_number=gateway.revision,
        id=gateway.id,
        gateway_type=schema.GatewayType.ZETA,
        destinations=[
            schema.GatewayConfigurationDestination(ip_address=ip, mac_address=mac)
            for ip, mac in gateway.destinations
        ],
        zeta_info=schema.GatewayConfigurationZeta(port_inband_operation=gateway.port_ibo),
    )
