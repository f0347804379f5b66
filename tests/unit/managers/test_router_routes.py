"""Pure extra-route checks (northbound §6.4)."""

from __future__ import annotations

import pytest

from alcor import errors
from alcor.managers.router.routes import canonical, check

SUBNETS = [{"cidr": "10.0.1.0/24"}, {"cidr": "fd00:1::/64"}]


def route(destination: str, nexthop: str) -> dict[str, str]:
    """Return a route dict."""
    return {"destination": destination, "nexthop": nexthop}


def test_connected_nexthops_of_both_versions_pass():
    """Nexthops inside a connected subnet, IPv4 and IPv6, any prefix length, pass."""
    check(
        "r",
        [
            route("0.0.0.0/0", "10.0.1.5"),
            route("192.168.0.0/16", "10.0.1.6"),
            route("::/0", "fd00:1::5"),
        ],
        SUBNETS,
        {"10.0.1.1"},
        30,
    )


@pytest.mark.parametrize(
    "bad,reason",
    [
        (route("192.168.0.0/24", "10.0.2.5"), "not connected"),
        (route("192.168.0.0/24", "10.0.1.1"), "used by router"),
        (route("192.168.0.1/24", "10.0.1.5"), "host bits"),
        (route("fd00:9::/64", "10.0.1.5"), "version"),
        (route("nonsense", "10.0.1.5"), "not a valid CIDR"),
    ],
)
def test_invalid_routes(bad, reason):
    """Unconnected or own nexthops, host bits, mixed versions and junk are InvalidRoutes."""
    with pytest.raises(errors.InvalidRoutes) as caught:
        check("r", [bad], SUBNETS, {"10.0.1.1"}, 30)
    assert reason in caught.value.text


def test_too_many_routes():
    """More routes than the maximum is RoutesExhausted."""
    routes = [route(f"192.168.{i}.0/24", "10.0.1.5") for i in range(3)]
    with pytest.raises(errors.RoutesExhausted):
        check("r", routes, SUBNETS, set(), 2)
    check("r", routes, SUBNETS, set(), 3)


def test_canonical_form():
    """Destinations and nexthops are returned in canonical text."""
    assert canonical(route("FD00:0009:0000::/64", "FD00:1::0005")) == route(
        "fd00:9::/64", "fd00:1::5"
    )
