"""Pure network ACL rule checks (northbound §13)."""

from __future__ import annotations

import pytest

from alcor import errors
from alcor.managers.acl.rules import complete, default_rules, is_default


def rule(**attrs):
    """Return a stored-shape rule with the table defaults and `attrs` on top."""
    base = {
        "number": 100,
        "direction": "ingress",
        "ether_type": "IPv4",
        "protocol": "all",
        "ip_prefix": None,
        "port_range_min": None,
        "port_range_max": None,
        "icmp_type": None,
        "icmp_code": None,
        "action": "allow",
    }
    return {**base, **attrs}


def test_defaults_are_filled():
    """The prefix follows the ether_type; a lone min port means that port."""
    v4, v6, one = rule(), rule(ether_type="IPv6"), rule(protocol="tcp", port_range_min=22)
    for r in (v4, v6, one):
        complete(r)
    assert (v4["ip_prefix"], v6["ip_prefix"], one["port_range_max"]) == ("0.0.0.0/0", "::/0", 22)


def test_an_ether_type_change_moves_a_catch_all_prefix_only():
    """On update a catch-all prefix follows the new ether_type; a chosen one is kept."""
    previous = rule(ip_prefix="0.0.0.0/0")
    changed = {**previous, "ether_type": "IPv6"}
    complete(changed, previous=previous)
    assert changed["ip_prefix"] == "::/0"
    chosen = rule(ip_prefix="10.0.0.0/8")
    with pytest.raises(errors.InvalidInput):
        complete({**chosen, "ether_type": "IPv6"}, previous=chosen)


@pytest.mark.parametrize(
    "attrs",
    [
        {"number": 0},
        {"number": 32767},
        {"protocol": "icmpv6"},
        {"ip_prefix": "fd00::/8"},
        {"protocol": "udp", "port_range_min": 5, "port_range_max": 4},
        {"protocol": "udp", "port_range_max": 4},
        {"protocol": "tcp", "port_range_min": 65536},
        {"protocol": "icmp", "port_range_min": 1},
        {"protocol": "tcp", "icmp_code": 1},
        {"protocol": "icmp", "icmp_type": 300},
    ],
)
def test_invalid_rules(attrs):
    """Each semantic violation is InvalidInput."""
    with pytest.raises(errors.InvalidInput):
        complete(rule(**attrs))


def test_default_rules_are_four_deny_alls():
    """Ingress and egress for both versions, number 32767, recognised as defaults."""
    rules = default_rules()
    assert {(r["direction"], r["ether_type"]) for r in rules} == {
        ("ingress", "IPv4"),
        ("ingress", "IPv6"),
        ("egress", "IPv4"),
        ("egress", "IPv6"),
    }
    assert all(is_default(r) and r["action"] == "deny" and r["protocol"] == "all" for r in rules)
    assert not is_default(rule())
