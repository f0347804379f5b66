"""Network ACL rule checks (northbound §13). Pure: every failure is 400 InvalidInput."""

from __future__ import annotations

import ipaddress
from typing import Any

from alcor import errors
from alcor.resources.network_acl import DEFAULT_RULE_NUMBER, MAX_RULE_NUMBER

PORT_PROTOCOLS = ("tcp", "udp")
ICMP_PROTOCOLS = ("icmp", "icmpv6")
ANY_PREFIX = {"IPv4": "0.0.0.0/0", "IPv6": "::/0"}


def invalid(reason: str) -> errors.InvalidInput:
    """Return the 400 InvalidInput of an ACL rule."""
    return errors.InvalidInput(error_message=reason)


def complete(rule: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
    """Fill the implied values of a new or updated rule, then validate it.

    `previous` is the stored rule on an update that does not set ip_prefix: a prefix left
    at the old ether_type's catch-all then follows an ether_type change.
    """
    if rule.get("ip_prefix") is None or (
        previous is not None
        and rule["ip_prefix"] == ANY_PREFIX[previous["ether_type"]]
        and rule["ether_type"] != previous["ether_type"]
    ):
        rule["ip_prefix"] = ANY_PREFIX[rule["ether_type"]]
    if (
        rule["protocol"] in PORT_PROTOCOLS
        and rule["port_range_min"] is not None
        and rule["port_range_max"] is None
    ):
        rule["port_range_max"] = rule["port_range_min"]
    validate(rule)


def validate(rule: dict[str, Any]) -> None:
    """Check number, protocol/ether_type, prefix version, ports and ICMP fields."""
    if not 1 <= rule["number"] <= MAX_RULE_NUMBER:
        raise invalid(
            f"number must be between 1 and {MAX_RULE_NUMBER} "
            f"({DEFAULT_RULE_NUMBER} is reserved for the default rules)"
        )
    protocol, ether_type = rule["protocol"], rule["ether_type"]
    if protocol == "icmpv6" and ether_type == "IPv4":
        raise invalid("protocol icmpv6 needs ether_type IPv6")
    prefix = ipaddress.ip_network(rule["ip_prefix"])
    if f"IPv{prefix.version}" != ether_type:
        raise invalid(f"ip_prefix {rule['ip_prefix']} is not an {ether_type} prefix")
    _check_ports(rule)
    _check_icmp(rule)


def _check_ports(rule: dict[str, Any]) -> None:
    lo, hi = rule["port_range_min"], rule["port_range_max"]
    if rule["protocol"] not in PORT_PROTOCOLS:
        if lo is not None or hi is not None:
            raise invalid(
                f"port_range_min and port_range_max must be null for protocol {rule['protocol']}"
            )
        return
    if lo is None and hi is not None:
        raise invalid("port_range_max needs port_range_min")
    for value in (lo, hi):
        if value is not None and not 1 <= value <= 65535:
            raise invalid(f"port {value} is outside 1-65535")
    if lo is not None and lo > hi:
        raise invalid("port_range_min must be <= port_range_max")


def _check_icmp(rule: dict[str, Any]) -> None:
    values = (rule["icmp_type"], rule["icmp_code"])
    if rule["protocol"] not in ICMP_PROTOCOLS:
        if any(v is not None for v in values):
            raise invalid(f"icmp_type and icmp_code must be null for protocol {rule['protocol']}")
        return
    for name, value in zip(("icmp_type", "icmp_code"), values, strict=True):
        if value is not None and not 0 <= value <= 255:
            raise invalid(f"{name} {value} is outside 0-255")


def default_rules() -> list[dict[str, Any]]:
    """Return the four read-only deny-all rules of a new ACL (ingress/egress × v4/v6)."""
    return [
        {
            "number": DEFAULT_RULE_NUMBER,
            "direction": direction,
            "ether_type": ether_type,
            "protocol": "all",
            "ip_prefix": ANY_PREFIX[ether_type],
            "port_range_min": None,
            "port_range_max": None,
            "icmp_type": None,
            "icmp_code": None,
            "action": "deny",
        }
        for direction in ("ingress", "egress")
        for ether_type in ("IPv4", "IPv6")
    ]


def is_default(rule: dict[str, Any]) -> bool:
    """Return True for one of the read-only default rules."""
    return bool(rule["number"] == DEFAULT_RULE_NUMBER)
