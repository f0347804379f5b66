"""Builders for goal states sent to reference agents in tests (values as in spec §3.5)."""

from __future__ import annotations

from typing import Any

from alcor.proto import schema as S
from alcor.southbound import encoding

RT = S.ResourceType
OP = S.OperationType
ST = S.OperationStatus
TUNNEL = 1001
GW_MAC = "fa:16:3e:00:00:01"
DVR_MAC = "fe:16:11:1a:2b:3c"


def vpc(vid: str = "vpc-1", rev: int = 1, op: OP = OP.INFO, **kw: Any) -> tuple:
    """A VPC state (context, INFO by default)."""
    cfg = S.VpcConfiguration(
        revision_number=rev, id=vid, tunnel_id=TUNNEL, update_type=S.UpdateType.FULL, **kw
    )
    return RT.VPC, vid, S.VpcState(op, cfg)


def subnet(
    sid: str = "sub-1",
    rev: int = 1,
    op: OP = OP.INFO,
    cidr: str = "10.10.0.0/24",
    gw_ip: str = "10.10.0.1",
    tunnel: int = TUNNEL,
    network_type: S.NetworkType = S.NetworkType.VXLAN,
    gw_mac: str = GW_MAC,
) -> tuple:
    """A subnet state (context)."""
    cfg = S.SubnetConfiguration(
        revision_number=rev,
        id=sid,
        update_type=S.UpdateType.FULL,
        network_type=network_type,
        vpc_id="vpc-1",
        name=sid,
        cidr=cidr,
        tunnel_id=tunnel,
        gateway=S.SubnetConfigurationGateway(gw_ip, gw_mac),
        dhcp_enable=True,
    )
    return RT.SUBNET, sid, S.SubnetState(op, cfg)


def port(
    pid: str = "p-b",
    rev: int = 1,
    op: OP = OP.CREATE,
    ip: str = "10.10.0.6",
    mac: str = "fa:16:3e:bb:bb:bb",
    sid: str = "sub-1",
    **kw: Any,
) -> tuple:
    """A port state (CREATE + FULL by default)."""
    fields: dict[str, Any] = {
        "revision_number": rev,
        "id": pid,
        "update_type": S.UpdateType.FULL,
        "vpc_id": "vpc-1",
        "device_id": "vm-b",
        "device_owner": "compute:nova",
        "mac_address": mac,
        "admin_state_up": True,
        "fixed_ips": [S.PortConfigurationFixedIp(sid, ip)],
    }
    fields.update(kw)
    return RT.PORT, pid, S.PortState(op, S.PortConfiguration(**fields))


def neighbor(
    pid: str = "p-a",
    rev: int = 1,
    op: OP = OP.CREATE,
    ip: str = "10.10.0.5",
    mac: str = "fa:16:3e:aa:aa:aa",
    sid: str = "sub-1",
    ntype: S.NeighborType = S.NeighborType.L2,
    host_ip: str = "192.168.1.11",
    tunnel: int = TUNNEL,
    **kw: Any,
) -> tuple:
    """A neighbor state keyed `<pid>_n`."""
    fields: dict[str, Any] = {
        "revision_number": rev,
        "id": pid,
        "update_type": S.UpdateType.FULL,
        "vpc_id": "vpc-1",
        "name": pid,
        "mac_address": mac,
        "host_mac_address": "52:54:00:00:00:0a",
        "host_ip_address": host_ip,
        "fixed_ips": [S.NeighborConfigurationFixedIp(ntype, sid, ip, tunnel_id=tunnel)],
    }
    fields.update(kw)
    return RT.NEIGHBOR, f"{pid}_n", S.NeighborState(op, S.NeighborConfiguration(**fields))


def router(
    rid: str = "r-1",
    rev: int = 1,
    op: OP = OP.CREATE,
    subnets: tuple = ("sub-1",),
    dvr: str = DVR_MAC,
    update_type: S.UpdateType = S.UpdateType.FULL,
) -> tuple:
    """A router state with one routing table per subnet."""
    tables = [
        S.RouterConfigurationSubnetRoutingTable(
            s,
            [
                S.RouterConfigurationRoutingRule(
                    S.OperationType.CREATE,
                    f"rule-{s}",
                    "",
                    "192.168.9.0/24",
                    "10.10.0.9",
                    0,
                    S.RouterConfigurationRoutingRuleExtraInfo(
                        S.DestinationType.VPC_GW, "fa:16:3e:99:99:99"
                    ),
                )
            ],
        )
        for s in subnets
    ]
    cfg = S.RouterConfiguration(
        revision_number=rev,
        id=rid,
        update_type=update_type,
        host_dvr_mac_address=dvr,
        subnet_routing_tables=tables,
    )
    return RT.ROUTER, rid, S.RouterState(op, cfg)


def dhcp(
    pid: str = "p-b",
    rev: int = 1,
    op: OP = OP.CREATE,
    mac: str = "fa:16:3e:bb:bb:bb",
    ip: str = "10.10.0.6",
    sid: str = "sub-1",
) -> tuple:
    """A DHCP state keyed by port id."""
    cfg = S.DhcpConfiguration(
        revision_number=rev,
        id=pid,
        update_type=S.UpdateType.FULL,
        subnet_id=sid,
        mac_address=mac,
        ipv4_address=ip,
        port_host_name="host-" + ip.replace(".", "-"),
    )
    return RT.DHCP, pid, S.DhcpState(op, cfg)


def sg(gid: str = "sg-1", rev: int = 1, op: OP = OP.CREATE) -> tuple:
    """A security group with one ingress TCP/22 rule."""
    rule = S.SecurityGroupConfigurationSecurityGroupRule(
        S.OperationType.CREATE,
        gid,
        "rule-1",
        S.SecurityGroupConfigurationDirection.INGRESS,
        S.EtherType.IPV4,
        S.Protocol.TCP,
        22,
        22,
        "0.0.0.0/0",
    )
    cfg = S.SecurityGroupConfiguration(
        revision_number=rev, id=gid, name="web", security_group_rules=[rule]
    )
    return RT.SECURITYGROUP, gid, S.SecurityGroupState(op, cfg)


def gateway(
    gid: str = "gw-1", rev: int = 1, op: OP = OP.INFO, dests: int = 2, zeta: bool = True
) -> tuple:
    """A ZETA gateway state."""
    cfg = S.GatewayConfiguration(
        revision_number=rev,
        id=gid,
        gateway_type=S.GatewayType.ZETA,
        destinations=[
            S.GatewayConfigurationDestination(f"172.16.0.{i + 1}", f"52:54:00:11:00:0{i + 1}")
            for i in range(dests)
        ],
    )
    if zeta:
        cfg.zeta_info = S.GatewayConfigurationZeta(8300)
    return RT.GATEWAY, gid, S.GatewayState(op, cfg)


def goal_state(*states: tuple, host: str = "10.0.0.12") -> bytes:
    """Assemble a GoalStateV2 the way the controller does."""
    entries: dict[int, list[bytes]] = {}
    for kind, key, state in states:
        entries.setdefault(encoding.V2_FIELD[kind], []).append(
            encoding.v2_entry(kind, key, bytes(state))
        )
    return encoding.assemble_goal_state_v2(host, [(k, key) for k, key, _ in states], entries)


def goal_state_v1(*states: tuple) -> bytes:
    """Assemble a V1 GoalState."""
    return encoding.assemble_goal_state_v1((k, key, bytes(s)) for k, key, s in states)


def statuses(reply: bytes | S.GoalStateOperationReply) -> dict[tuple[str, str], str]:
    """Map (KIND, resource_id) to the status name in a reply."""
    if isinstance(reply, bytes):
        reply = S.GoalStateOperationReply().parse(reply)
    return {
        (s.resource_type.name, s.resource_id): s.operation_status.name
        for s in reply.operation_statuses
    }


def context() -> tuple[tuple, ...]:
    """The VPC and subnet that most states need."""
    return vpc(), subnet()
