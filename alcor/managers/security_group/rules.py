"""Security group rule validation and duplicate keys (northbound §7.3). Pure."""

from __future__ import annotations

import ipaddress
from typing import Any

from alcor import errors
from alcor.resources.security_group import PROTOCOL_NUMBERS

PORT_PROTOCOLS = {"tcp", "udp", "udplite", "sctp", "dccp", "6", "17", "136", "132", "33"}
ICMP_PROTOCOLS = {"icmp", "ipv6-icmp", "icmpv6", "1", "58"}
# Every IPv6-only protocol, by name and number, as Neutron checks them (the spec listed only
# ICMPv6; neutron-tempest-plugin tries them all with IPv4).
IPV6_ONLY = {
    "ipv6-icmp",
    "icmpv6",
    "58",
    "ipv6-encap",
    "41",
    "ipv6-route",
    "43",
    "ipv6-frag",
    "44",
    "ipv6-nonxt",
    "59",
    "ipv6-opts",
    "60",
}


def validate(rule: dict[str, Any]) -> None:
    """Check protocol/port/ICMP/ethertype/remote rules; fill port_range_max when implied."""
    protocol = rule.get("protocol")
    lo, hi = rule.get("port_range_min"), rule.get("port_range_max")
    if protocol in IPV6_ONLY and rule["ethertype"] == "IPv4":
        raise errors.SecurityGroupEthertypeConflictWithProtocol(ethertype="IPv4", protocol=protocol)
    if protocol in PORT_PROTOCOLS:
        for value in (lo, hi):
            if value is not None and not 1 <= value <= 65535:
                raise errors.SecurityGroupInvalidPortValue(port=value)
        if lo is not None and hi is None:
            rule["port_range_max"] = hi = lo
        if lo is None and hi is not None:
            raise errors.SecurityGroupInvalidPortRange()
        if lo is not None and lo > hi:
            raise errors.SecurityGroupInvalidPortRange()
    elif protocol in ICMP_PROTOCOLS:
        for field, attr, value in (("type", "port_range_min", lo), ("code", "port_range_max", hi)):
            if value is not None and not 0 <= value <= 255:
                raise errors.SecurityGroupInvalidIcmpValue(field=field, attr=attr, value=value)
        if lo is None and hi is not None:
            raise errors.SecurityGroupMissingIcmpType(value=hi)
    elif lo is not None or hi is not None:
        raise errors.SecurityGroupInvalidProtocolForPort(protocol=protocol)
    prefix = rule.get("remote_ip_prefix")
    rule["normalized_cidr"] = None
    if prefix is not None:
        network = ipaddress.ip_network(prefix, strict=False)
        if f"IPv{network.version}" != rule["ethertype"]:
            raise errors.SecurityGroupRuleParameterConflict(
                ethertype=rule["ethertype"], cidr=prefix
            )
        # Kept as given; its network is normalized_cidr (security-groups-normalized-cidr).
        rule["normalized_cidr"] = str(network)
    remotes = [
        k
        for k in ("remote_ip_prefix", "remote_group_id", "remote_address_group_id")
        if rule.get(k) is not None
    ]
    if len(remotes) > 1:
        if "remote_address_group_id" in remotes:
            raise errors.BadRequest(
                resource="security_group_rule",
                msg="Only remote_ip_prefix or remote_group_id or remote_address_group_id may "
                "be provided",
            )
        raise errors.SecurityGroupRemoteGroupAndRemoteIpPrefix()


def normalized(rule: dict[str, Any]) -> str:
    """Return the duplicate-detection key: names ≡ numbers, null ≡ any, null prefix ≡ /0."""
    ethertype = rule["ethertype"]
    protocol = rule.get("protocol")
    number = None if protocol is None else PROTOCOL_NUMBERS.get(protocol, protocol)
    if ethertype == "IPv6" and str(number) in ("1", "58"):
        number = 58
    prefix = rule.get("normalized_cidr") or rule.get("remote_ip_prefix")
    if prefix is not None:
        prefix = str(ipaddress.ip_network(prefix, strict=False))
    else:
        prefix = "0.0.0.0/0" if ethertype == "IPv4" else "::/0"
    parts = [
        rule["direction"],
        ethertype,
        number,
        rule.get("port_range_min"),
        rule.get("port_range_max"),
        prefix,
        rule.get("remote_group_id"),
    ]
    # Appended only when set, so the keys stored before address groups stay valid.
    if rule.get("remote_address_group_id") is not None:
        parts.append(rule["remote_address_group_id"])
    return "|".join(str(x) for x in parts)
