"""Pure subnet rules: default gateway and pools, host bounds, pool validation."""

from __future__ import annotations

import ipaddress

import pytest

from alcor import errors
from alcor.managers.subnet import validation as v


def test_default_gateway_and_pools_ipv4_and_ipv6():
    """IPv4 excludes network/broadcast; IPv6 excludes only the anycast ::0; the gateway splits."""
    v4 = ipaddress.ip_network("10.0.0.0/24")
    assert v.default_gateway(v4) == "10.0.0.1"
    assert v.default_pools(v4, "10.0.0.1") == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert v.default_pools(v4, None) == [{"start": "10.0.0.1", "end": "10.0.0.254"}]
    v6 = ipaddress.ip_network("fd00::/126")
    assert v.default_pools(v6, "fd00::1") == [{"start": "fd00::2", "end": "fd00::3"}]
    assert v.default_pools(v6, "fe80::1") == [{"start": "fd00::1", "end": "fd00::3"}]


def test_pool_checks():
    """Pool order, bounds, overlap and gateway conflicts raise their own errors."""
    net = ipaddress.ip_network("10.0.0.0/24")
    v.check_pools(
        net,
        [{"start": "10.0.0.2", "end": "10.0.0.9"}, {"start": "10.0.0.10", "end": "10.0.0.20"}],
        "10.0.0.1",
    )
    cases = [
        ([{"start": "10.0.0.9", "end": "10.0.0.2"}], errors.InvalidAllocationPool),
        ([{"start": "10.0.0.0", "end": "10.0.0.2"}], errors.OutOfBoundsAllocationPool),
        (
            [{"start": "10.0.0.2", "end": "10.0.0.5"}, {"start": "10.0.0.5", "end": "10.0.0.6"}],
            errors.OverlappingAllocationPools,
        ),
        ([{"start": "10.0.0.1", "end": "10.0.0.5"}], errors.GatewayConflictWithAllocationPools),
    ]
    for pools, error in cases:
        with pytest.raises(error):
            v.check_pools(net, pools, "10.0.0.1")


def test_cidr_and_ipv6_mode_checks():
    """Prefix limits, version mismatch and the IPv6 mode rules raise InvalidInput."""
    assert v.check_cidr({"cidr": "10.0.0.0/30"}).prefixlen == 30
    for given in (
        {"cidr": "10.0.0.0/31"},
        {"cidr": "fd00::/127"},
        {"cidr": "10.0.0.0/24", "ip_version": 6},
    ):
        with pytest.raises(errors.InvalidInput):
            v.check_cidr(given)
    net64 = ipaddress.ip_network("fd00::/64")
    v.check_ipv6_modes(net64, {"ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"}, True)
    for net, given, dhcp in (
        (net64, {"ipv6_address_mode": "slaac"}, False),
        (ipaddress.ip_network("fd00::/80"), {"ipv6_ra_mode": "slaac"}, True),
        (net64, {"ipv6_address_mode": "slaac", "ipv6_ra_mode": "dhcpv6-stateful"}, True),
        (ipaddress.ip_network("10.0.0.0/24"), {"ipv6_ra_mode": "slaac"}, True),
    ):
        with pytest.raises(errors.InvalidInput):
            v.check_ipv6_modes(net, given, dhcp)
