"""Goal states assembled from pre-encoded entries decode exactly like normally built ones."""

from __future__ import annotations

import pytest

from alcor.proto import schema
from alcor.southbound import encoding

RT = schema.ResourceType
OP = schema.OperationType


def _states() -> list[tuple[int, str, object]]:
    """A few states of every kind, keyed as the controller keys them."""
    subnet = schema.SubnetState(
        OP.INFO,
        schema.SubnetConfiguration(
            revision_number=1,
            id="sub-1",
            network_type=schema.NetworkType.VLAN,
            vpc_id="vpc-1",
            cidr="10.0.0.0/24",
            tunnel_id=2**33,
            gateway=schema.SubnetConfigurationGateway("10.0.0.1", "fa:16:3e:00:00:01"),
            dhcp_enable=True,
        ),
    )
    out: list[tuple[int, str, object]] = [
        (
            RT.VPC,
            "vpc-1",
            schema.VpcState(
                OP.INFO,
                schema.VpcConfiguration(
                    revision_number=2, id="vpc-1", tunnel_id=1001, gateway_ids=["gw-1"]
                ),
            ),
        ),
        (RT.SUBNET, "sub-1", subnet),
        (
            RT.GATEWAY,
            "gw-1",
            schema.GatewayState(
                OP.INFO,
                schema.GatewayConfiguration(
                    revision_number=1,
                    id="gw-1",
                    gateway_type=schema.GatewayType.ZETA,
                    zeta_info=schema.GatewayConfigurationZeta(8300),
                ),
            ),
        ),
        (
            RT.ROUTER,
            "r-1",
            schema.RouterState(
                OP.CREATE,
                schema.RouterConfiguration(
                    revision_number=3, id="r-1", host_dvr_mac_address="fe:16:11:00:00:01"
                ),
            ),
        ),
        (
            RT.SECURITYGROUP,
            "sg-1",
            schema.SecurityGroupState(
                OP.UPDATE, schema.SecurityGroupConfiguration(revision_number=4, id="sg-1")
            ),
        ),
        (
            RT.VPC,
            "vpc-0",
            schema.VpcState(OP.DELETE, schema.VpcConfiguration(revision_number=9, id="vpc-0")),
        ),
    ]
    for i in (3, 1, 2):
        pid = f"p-{i}"
        out.append(
            (
                RT.PORT,
                pid,
                schema.PortState(
                    OP.CREATE,
                    schema.PortConfiguration(
                        revision_number=i,
                        id=pid,
                        update_type=schema.UpdateType.FULL,
                        mac_address=f"fa:16:3e:00:00:0{i}",
                        admin_state_up=True,
                        fixed_ips=[schema.PortConfigurationFixedIp("sub-1", f"10.0.0.{i}")],
                    ),
                ),
            )
        )
        out.append(
            (
                RT.DHCP,
                pid,
                schema.DhcpState(
                    OP.CREATE,
                    schema.DhcpConfiguration(
                        revision_number=i, id=pid, subnet_id="sub-1", ipv4_address=f"10.0.0.{i}"
                    ),
                ),
            )
        )
        out.append(
            (
                RT.NEIGHBOR,
                f"{pid}_n",
                schema.NeighborState(
                    OP.CREATE,
                    schema.NeighborConfiguration(
                        revision_number=i,
                        id=pid,
                        host_ip_address="192.168.0.1",
                        fixed_ips=[
                            schema.NeighborConfigurationFixedIp(
                                schema.NeighborType.L3, "sub-1", f"10.0.0.{i}", tunnel_id=1001
                            )
                        ],
                    ),
                ),
            )
        )
    return out


_MAP_ATTR = {
    RT.VPC: "vpc_states",
    RT.SUBNET: "subnet_states",
    RT.PORT: "port_states",
    RT.DHCP: "dhcp_states",
    RT.NEIGHBOR: "neighbor_states",
    RT.SECURITYGROUP: "security_group_states",
    RT.ROUTER: "router_states",
    RT.GATEWAY: "gateway_states",
}


def _normal_v2(states) -> schema.GoalStateV2:
    gs = schema.GoalStateV2(
        format_version=102,
        host_resources={
            "10.0.0.7": schema.HostResources(
                [schema.ResourceIdType(kind, key) for kind, key, _ in states]
            )
        },
    )
    for kind, key, state in states:
        getattr(gs, _MAP_ATTR[kind])[key] = state
    return gs


def _assembled_v2(states) -> bytes:
    entries: dict[int, list[bytes]] = {}
    for kind, key, state in states:
        entries.setdefault(encoding.V2_FIELD[kind], []).append(
            encoding.v2_entry(kind, key, encoding.encode_state(state))
        )
    return encoding.assemble_goal_state_v2(
        "10.0.0.7", [(kind, key) for kind, key, _ in states], entries
    )


def test_assembled_v2_decodes_like_the_normal_message(pb):
    """Both betterproto and Google protobuf decode the assembled bytes to the normal message."""
    states = _states()
    normal = _normal_v2(states)
    data = _assembled_v2(states)
    assert schema.GoalStateV2().parse(data) == normal
    google = pb.goalstate.GoalStateV2
    assert google.FromString(data) == google.FromString(bytes(normal))
    assert google.FromString(data).subnet_states["sub-1"].configuration.tunnel_id == 2**33


def test_assembled_v1_lists_states_in_key_order(pb):
    """The V1 GoalState carries repeated states sorted by key and decodes like the normal one."""
    states = _states()
    data = encoding.assemble_goal_state_v1(
        (kind, key, encoding.encode_state(state)) for kind, key, state in states
    )
    normal = schema.GoalState(format_version=101)
    attr = {**_MAP_ATTR, RT.DHCP: "dhcp_states"}
    for kind, _key, state in sorted(states, key=lambda s: s[1]):
        getattr(normal, attr[kind]).append(state)
    decoded = schema.GoalState().parse(data)
    assert decoded == normal
    assert [s.configuration.id for s in decoded.port_states] == ["p-1", "p-2", "p-3"]
    assert [s.configuration.id for s in decoded.vpc_states] == ["vpc-0", "vpc-1"]
    google = pb.goalstate.GoalState
    assert google.FromString(data) == google.FromString(bytes(normal))


def test_empty_goal_state_still_names_the_host(pb):
    """An empty V2 message carries host_resources with no resources (the warm-up message)."""
    data = encoding.assemble_goal_state_v2("10.0.0.7", [], {})
    decoded = pb.goalstate.GoalStateV2.FromString(data)
    assert decoded.format_version == 102
    assert list(decoded.host_resources) == ["10.0.0.7"]


@pytest.mark.parametrize("n", [0, 1, 127, 128, 4095, 4096, 300_000, 2**32 + 1])
def test_varint_matches_the_reference(n):
    """Our varint agrees with betterproto's encoder for table and computed values."""
    import betterproto

    assert encoding.varint(n) == betterproto.encode_varint(n)


def test_large_state_lengths_use_multibyte_varints(pb):
    """A state longer than the small-varint table still assembles correctly."""
    big = schema.NeighborState(
        OP.CREATE, schema.NeighborConfiguration(revision_number=1, id="big", name="x" * 20_000)
    )
    data = encoding.assemble_goal_state_v2(
        "h",
        [(RT.NEIGHBOR, "big_n")],
        {7: [encoding.v2_entry(RT.NEIGHBOR, "big_n", encoding.encode_state(big))]},
    )
    assert (
        pb.goalstate.GoalStateV2.FromString(data).neighbor_states["big_n"].configuration.name
        == "x" * 20_000
    )
