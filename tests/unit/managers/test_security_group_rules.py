"""Pure security group rule checks (northbound §7.3): validation and duplicate keys."""

from __future__ import annotations

import pytest

from alcor import errors
from alcor.managers.security_group.rules import normalized, validate


def rule(**attrs):
    """Return a stored-shape rule with Neutron defaults and `attrs` on top."""
    base = {
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": None,
        "port_range_min": None,
        "port_range_max": None,
        "remote_ip_prefix": None,
        "remote_group_id": None,
    }
    return {**base, **attrs}


@pytest.mark.parametrize(
    "protocol", ["tcp", "udp", "udplite", "sctp", "dccp", "6", "17", "136", "132", "33"]
)
def test_port_protocols_fill_max_from_min(protocol):
    """A port protocol with only port_range_min means that single port."""
    r = rule(protocol=protocol, port_range_min=443)
    validate(r)
    assert r["port_range_max"] == 443


@pytest.mark.parametrize(
    "lo,hi,error",
    [
        (0, 1, errors.SecurityGroupInvalidPortValue),
        (1, 65536, errors.SecurityGroupInvalidPortValue),
        (10, 9, errors.SecurityGroupInvalidPortRange),
        (None, 9, errors.SecurityGroupInvalidPortRange),
    ],
)
def test_port_protocol_ranges(lo, hi, error):
    """Ports are 1-65535 with min ≤ max, and max needs min."""
    with pytest.raises(error):
        validate(rule(protocol="tcp", port_range_min=lo, port_range_max=hi))


@pytest.mark.parametrize(
    "lo,hi,error",
    [
        (256, None, errors.SecurityGroupInvalidIcmpValue),
        (0, 256, errors.SecurityGroupInvalidIcmpValue),
        (-1, None, errors.SecurityGroupInvalidIcmpValue),
        (None, 0, errors.SecurityGroupMissingIcmpType),
    ],
)
def test_icmp_type_and_code_bounds(lo, hi, error):
    """ICMP type and code are 0-255; a code needs a type."""
    with pytest.raises(error):
        validate(rule(protocol="icmp", port_range_min=lo, port_range_max=hi))


def test_icmp_accepts_type_and_code_and_v6_icmp_under_ipv6():
    """Valid ICMP and ICMPv6 rules pass unchanged."""
    for r in (
        rule(protocol="icmp", port_range_min=8, port_range_max=0),
        rule(protocol="icmp", ethertype="IPv6", port_range_min=128),
        rule(protocol="58", ethertype="IPv6"),
    ):
        before = dict(r)
        validate(r)
        assert r == {**before, "normalized_cidr": None}


@pytest.mark.parametrize("protocol", [None, "gre", "47", "ah"])
def test_ports_need_a_port_protocol(protocol):
    """Ports on other protocols (or any) are SecurityGroupInvalidProtocolForPort."""
    with pytest.raises(errors.SecurityGroupInvalidProtocolForPort):
        validate(rule(protocol=protocol, port_range_min=1))


@pytest.mark.parametrize("protocol", ["ipv6-icmp", "icmpv6", "58"])
def test_ipv6_only_protocol_with_ipv4(protocol):
    """ICMPv6 with IPv4 is SecurityGroupEthertypeConflictWithProtocol."""
    with pytest.raises(errors.SecurityGroupEthertypeConflictWithProtocol):
        validate(rule(protocol=protocol))


def test_prefix_is_kept_its_network_is_the_normalized_cidr():
    """The prefix stays as given, its network is normalized_cidr; its version must be the
    ethertype's (security-groups-normalized-cidr)."""
    r = rule(remote_ip_prefix="10.1.2.3/16")
    validate(r)
    assert (r["remote_ip_prefix"], r["normalized_cidr"]) == ("10.1.2.3/16", "10.1.0.0/16")
    with pytest.raises(errors.SecurityGroupRuleParameterConflict):
        validate(rule(ethertype="IPv6", remote_ip_prefix="10.0.0.0/8"))


def test_prefix_and_remote_group_are_exclusive():
    """remote_ip_prefix with remote_group_id is refused."""
    with pytest.raises(errors.SecurityGroupRemoteGroupAndRemoteIpPrefix):
        validate(rule(remote_ip_prefix="10.0.0.0/8", remote_group_id="g"))


@pytest.mark.parametrize(
    "a,b",
    [
        (rule(protocol="tcp"), rule(protocol="6")),
        (
            rule(protocol="udp", port_range_min=53, port_range_max=53),
            rule(protocol="17", port_range_min=53, port_range_max=53),
        ),
        (rule(), rule(remote_ip_prefix="0.0.0.0/0")),
        (rule(ethertype="IPv6"), rule(ethertype="IPv6", remote_ip_prefix="::/0")),
        (rule(ethertype="IPv6", protocol="icmp"), rule(ethertype="IPv6", protocol="ipv6-icmp")),
        (rule(ethertype="IPv6", protocol="icmpv6"), rule(ethertype="IPv6", protocol="58")),
        (rule(ethertype="IPv6", protocol="1"), rule(ethertype="IPv6", protocol="icmpv6")),
    ],
)
def test_equivalent_rules_share_a_key(a, b):
    """Names ≡ numbers, null prefix ≡ /0, all ICMP spellings ≡ 58 under IPv6."""
    assert normalized(a) == normalized(b)


@pytest.mark.parametrize(
    "a,b",
    [
        (rule(protocol="icmp"), rule(protocol="58", ethertype="IPv6")),
        (rule(protocol="icmp"), rule(protocol="icmp", ethertype="IPv6")),
        (rule(), rule(direction="egress")),
        (rule(protocol="tcp"), rule(protocol="udp")),
        (rule(remote_group_id="a"), rule(remote_group_id="b")),
        (
            rule(protocol="tcp", port_range_min=1, port_range_max=2),
            rule(protocol="tcp", port_range_min=1, port_range_max=3),
        ),
        (rule(remote_ip_prefix="10.0.0.0/8"), rule(remote_ip_prefix="10.0.0.0/16")),
    ],
)
def test_different_rules_have_different_keys(a, b):
    """ICMP under IPv4 is not ICMPv6; every other attribute distinguishes rules."""
    assert normalized(a) != normalized(b)
