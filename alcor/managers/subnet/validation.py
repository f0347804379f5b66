"""Subnet rules (northbound §4.1): CIDR, gateway, pools, DNS, routes, IPv6 modes. Pure."""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Sequence
from typing import Any

from alcor import errors
from alcor.config import SubnetConfig
from alcor.managers.ipnet import Network as IPNetwork
from alcor.managers.ipnet import within

AUTO_MODES = ("slaac", "dhcpv6-stateless")
LINK_LOCAL = ipaddress.ip_network("fe80::/64")


def invalid(message: str) -> errors.InvalidInput:
    """Return InvalidInput with `message`."""
    return errors.InvalidInput(error_message=message)


def check_cidr(given: dict[str, Any]) -> IPNetwork:
    """Check cidr against ip_version and prefix limits; fill ip_version; return the network."""
    network = ipaddress.ip_network(given["cidr"])
    version = given.setdefault("ip_version", network.version)
    if version != network.version:
        raise invalid(f"ip_version {version} does not match the cidr {given['cidr']}")
    limit = 30 if version == 4 else 126
    if network.prefixlen > limit:
        raise invalid(f"prefix length of {given['cidr']} must be at most {limit}")
    return network


def check_overlap(
    network: IPNetwork, others: Sequence[dict[str, Any]], vpc_cidr: str | None
) -> None:
    """Refuse overlap with the network's other subnets and escape from the VPC cidr."""
    for other in others:
        if network.overlaps(ipaddress.ip_network(other["cidr"])):
            raise invalid(
                f"Requested subnet with cidr: {network} for network: "
                f"{other['network_id']} overlaps with another subnet"
            )
    if vpc_cidr:
        vpc = ipaddress.ip_network(vpc_cidr)
        if not within(network, vpc):
            raise invalid(f"subnet cidr {network} is not inside the network cidr {vpc_cidr}")


def default_gateway(network: IPNetwork) -> str:
    """Return the first address after the network address."""
    return str(network.network_address + 1)


def check_gateway(network: IPNetwork, gateway: str | None) -> None:
    """Refuse a gateway outside the cidr (IPv6 may be link-local) or on a reserved address."""
    if gateway is None:
        return
    address = ipaddress.ip_address(gateway)
    if address.version != network.version:
        raise invalid("Gateway IP version inconsistent with allocation pool version")
    if network.version == 6 and address in LINK_LOCAL:
        return
    if (
        address not in network
        or address == network.network_address
        or (network.version == 4 and address == network.broadcast_address)
    ):
        raise invalid(
            f"Gateway is not valid on subnet: {gateway} is not a usable address of {network}"
        )


def host_bounds(network: IPNetwork) -> tuple[int, int]:
    """Return the first and last assignable address (no network/broadcast/anycast)."""
    first = int(network.network_address) + 1
    last = int(network.broadcast_address) - (1 if network.version == 4 else 0)
    return first, last


def default_pools(network: IPNetwork, gateway: str | None) -> list[dict[str, str]]:
    """Return the host range minus the gateway, as allocation pools."""
    first, last = host_bounds(network)
    spans = [(first, last)]
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        if first <= gw <= last:
            spans = [(a, b) for a, b in ((first, gw - 1), (gw + 1, last)) if a <= b]
    return [
        {"start": int_to_ip(a, network.version), "end": int_to_ip(b, network.version)}
        for a, b in spans
    ]


def check_pools(network: IPNetwork, pools: Sequence[dict[str, str]], gateway: str | None) -> None:
    """Validate explicit pools: order/version, bounds, overlap, gateway conflict."""
    spans = []
    first, last = host_bounds(network)
    for pool in pools:
        start, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
        if (
            start.version != network.version
            or end.version != network.version
            or int(start) > int(end)
        ):
            raise errors.InvalidAllocationPool(pool=_fmt(pool))
        if int(start) < first or int(end) > last:
            raise errors.OutOfBoundsAllocationPool(pool=_fmt(pool), subnet_cidr=str(network))
        spans.append((int(start), int(end), pool))
    spans.sort(key=lambda s: s[0])
    for (_, end_a, pool_a), (start_b, _, pool_b) in itertools.pairwise(spans):
        if start_b <= end_a:
            raise errors.OverlappingAllocationPools(
                pool_1=_fmt(pool_a), pool_2=_fmt(pool_b), subnet_cidr=str(network)
            )
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        for lo, hi, pool in spans:
            if lo <= gw <= hi:
                raise errors.GatewayConflictWithAllocationPools(ip_address=gateway, pool=_fmt(pool))


def check_lists(
    subnet_id: str, network: IPNetwork, given: dict[str, Any], config: SubnetConfig
) -> None:
    """Check DNS servers and host routes (counts and versions)."""
    dns = given.get("dns_nameservers")
    if dns is not None and len(dns) > config.max_dns_nameservers:
        raise errors.DNSNameServersExhausted(subnet_id=subnet_id, quota=config.max_dns_nameservers)
    routes = given.get("host_routes")
    if routes is None:
        return
    if len(routes) > config.max_host_routes:
        raise errors.HostRoutesExhausted(subnet_id=subnet_id, quota=config.max_host_routes)
    for route in routes:
        dest = ipaddress.ip_network(route["destination"])
        hop = ipaddress.ip_address(route["nexthop"])
        if dest.version != network.version or hop.version != network.version:
            raise invalid(
                f"host route {route['destination']} via {route['nexthop']} is not "
                f"of the subnet's IP version {network.version}"
            )


def check_ipv6_modes(network: IPNetwork, given: dict[str, Any], enable_dhcp: bool) -> None:
    """Apply the IPv6 address/RA mode rules."""
    address_mode = given.get("ipv6_address_mode")
    ra_mode = given.get("ipv6_ra_mode")
    if address_mode is None and ra_mode is None:
        return
    if network.version != 6:
        raise invalid("ipv6_ra_mode or ipv6_address_mode cannot be set on an IPv4 subnet")
    if not enable_dhcp:
        raise invalid(
            "ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False"
        )
    if address_mode and ra_mode and address_mode != ra_mode:
        raise invalid(
            f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to "
            f"'{address_mode}' is not valid. If both attributes are set, they must be "
            f"the same value"
        )
    if (address_mode in AUTO_MODES or ra_mode in AUTO_MODES) and network.prefixlen != 64:
        raise invalid(
            f"Invalid CIDR {network} for IPv6 address mode. OpenStack uses the EUI-64 "
            f"address format, which requires the prefix to be /64"
        )


def check_cidr_source(given: dict[str, Any]) -> None:
    """A subnet needs a cidr, or a subnetpool_id to allocate one from ("" means none)."""
    if given.get("subnetpool_id") == "":
        given["subnetpool_id"] = None
    if given.get("subnetpool_id") is None:
        if "prefixlen" in given:
            raise errors.HTTPBadRequest(
                msg="Invalid input for prefixlen. Reason: prefixlen needs a subnetpool_id."
            )
        if given.get("cidr") is None:
            raise errors.HTTPBadRequest(
                msg="Failed to parse request. Required attribute 'cidr' not specified"
            )


def int_to_ip(value: int, version: int) -> str:
    """Return the canonical text of an integer address of the given IP version."""
    cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return str(cls(value))


def _fmt(pool: dict[str, str]) -> str:
    return f"{pool['start']}-{pool['end']}"
