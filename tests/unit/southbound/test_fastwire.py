"""The direct encoders write exactly the bytes betterproto writes for the same message."""

from __future__ import annotations

import random
import uuid

import pytest

from alcor.proto import schema
from alcor.southbound import fastwire


def _id() -> str:
    return str(uuid.uuid4())


@pytest.mark.parametrize("seed", range(30))
def test_neighbor_bytes_equal_betterproto(seed: int) -> None:
    """A NeighborConfiguration encodes identically, L2/L3, with and without pairs."""
    rnd = random.Random(seed)
    fixed = [
        (rnd.choice([0, 1]), _id(), f"10.0.{seed}.{j}", rnd.choice([0, 7, 16777215]))
        for j in range(rnd.randint(0, 3))
    ]
    pairs = [(f"10.9.0.{j}/32", f"fa:16:3e:00:00:{j:02x}") for j in range(rnd.randint(0, 2))]
    args = (
        rnd.randint(1, 2**32 - 1),
        _id(),
        _id(),
        rnd.choice(["", "vm-ä"]),
        "fa:16:3e:aa:bb:cc",
        rnd.choice(["", "52:54:00:00:00:01"]),
        "192.168.1.11",
    )
    expected = schema.NeighborConfiguration(
        revision_number=args[0],
        id=args[1],
        update_type=schema.UpdateType.FULL,
        vpc_id=args[2],
        name=args[3],
        mac_address=args[4],
        host_mac_address=args[5],
        host_ip_address=args[6],
        fixed_ips=[
            schema.NeighborConfigurationFixedIp(
                neighbor_type=k, subnet_id=s, ip_address=ip, tunnel_id=t
            )
            for k, s, ip, t in fixed
        ],
        allow_address_pairs=[
            schema.NeighborConfigurationAllowAddressPair(ip_address=ip, mac_address=m)
            for ip, m in pairs
        ],
    )
    assert fastwire.neighbor(*args, fixed, pairs) == bytes(expected)


@pytest.mark.parametrize("seed", range(20))
def test_port_bytes_equal_betterproto(seed: int) -> None:
    """A PortConfiguration encodes identically."""
    rnd = random.Random(seed)
    fixed = [(_id(), f"10.0.0.{j}") for j in range(rnd.randint(1, 3))]
    pairs = [("10.9.0.0/24", "fa:16:3e:00:00:01")] * rnd.randint(0, 1)
    groups = [_id() for _ in range(rnd.randint(0, 2))]
    rev, pid, vpc = rnd.randint(1, 1000), _id(), _id()
    # alcor's fields 15-17 (two-byte tags from 16 on): security off, QoS policy, subport VLAN
    disabled = rnd.random() < 0.5
    qos = _id() if rnd.random() < 0.5 else ""
    trunk = (_id(), "vlan", rnd.randint(1, 4094)) if rnd.random() < 0.5 else None
    expected = schema.PortConfiguration(
        revision_number=rev,
        id=pid,
        update_type=schema.UpdateType.FULL,
        vpc_id=vpc,
        name="p",
        device_id="vm",
        device_owner="compute:nova",
        mac_address="fa:16:3e:01:02:03",
        admin_state_up=True,
        fixed_ips=[schema.PortConfigurationFixedIp(subnet_id=s, ip_address=ip) for s, ip in fixed],
        allow_address_pairs=[
            schema.PortConfigurationAllowAddressPair(ip_address=i, mac_address=m) for i, m in pairs
        ],
        security_group_ids=[schema.PortConfigurationSecurityGroupId(id=g) for g in groups],
        port_security_disabled=disabled,
        qos_policy_id=qos,
    )
    if trunk is not None:
        expected.trunk = schema.PortConfigurationTrunkInfo(*trunk)
    got = fastwire.port(
        rev,
        pid,
        vpc,
        "p",
        "vm",
        "compute:nova",
        "fa:16:3e:01:02:03",
        fixed,
        pairs,
        groups,
        disabled,
        qos,
        trunk,
    )
    assert got == bytes(expected)
    assert schema.PortConfiguration().parse(got).to_dict() == expected.to_dict()


@pytest.mark.parametrize("dhcp", [True, False])
def test_subnet_vpc_dhcp_bytes_equal_betterproto(dhcp: bool) -> None:
    """Subnet, VPC and DHCP configurations encode identically (uint64 tunnel id included)."""
    sid, vpc = _id(), _id()
    subnet = schema.SubnetConfiguration(
        revision_number=3,
        id=sid,
        update_type=schema.UpdateType.FULL,
        network_type=schema.NetworkType.VLAN,
        vpc_id=vpc,
        name="s",
        cidr="10.0.0.0/24",
        tunnel_id=4094,
        gateway=schema.SubnetConfigurationGateway(
            ip_address="10.0.0.1", mac_address="fa:16:3e:0:0:1"
        ),
        dhcp_enable=dhcp,
        dns_entry_list=[schema.SubnetConfigurationDnsEntry(entry="8.8.8.8")],
        availability_zone="nova",
    )
    assert fastwire.subnet(
        3,
        sid,
        schema.NetworkType.VLAN,
        vpc,
        "s",
        "10.0.0.0/24",
        4094,
        "10.0.0.1",
        "fa:16:3e:0:0:1",
        dhcp,
        ["8.8.8.8"],
        "nova",
    ) == bytes(subnet)
    vpc_msg = schema.VpcConfiguration(
        revision_number=2,
        id=vpc,
        update_type=schema.UpdateType.FULL,
        project_id="p",
        name="v",
        cidr="",
        tunnel_id=16777215,
        gateway_ids=["g1"],
        qos_policy_id="q1",
    )
    assert fastwire.vpc(2, vpc, "p", "v", "", 16777215, ["g1"], "q1") == bytes(vpc_msg)
    dhcp_msg = schema.DhcpConfiguration(
        revision_number=1,
        id=sid,
        update_type=schema.UpdateType.FULL,
        subnet_id=vpc,
        mac_address="fa:16:3e:00:00:01",
        ipv4_address="10.0.0.5",
        port_host_name="host-10-0-0-5",
    )
    assert fastwire.dhcp(
        1, sid, vpc, "fa:16:3e:00:00:01", "10.0.0.5", "", "host-10-0-0-5"
    ) == bytes(dhcp_msg)
    dhcp_msg.ipv6_address = "fd00::5"
    dhcp_msg.extra_dhcp_options = [
        schema.DhcpConfigurationExtraDhcpOption("bootfile-name", "pxe.0", 4),
        schema.DhcpConfigurationExtraDhcpOption("dns-server", "fd00::53", 6),
    ]
    options = [("bootfile-name", "pxe.0", 4), ("dns-server", "fd00::53", 6)]
    assert fastwire.dhcp(
        1, sid, vpc, "fa:16:3e:00:00:01", "10.0.0.5", "fd00::5", "host-10-0-0-5", options
    ) == bytes(dhcp_msg)
