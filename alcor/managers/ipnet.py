"""Typed helpers over ipaddress networks of either IP version (shared, not a manager).

The standard library types `subnet_of`, `address_exclude` and `collapse_addresses` per
version; these helpers take either version and answer False (or nothing) across versions.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network

Network = IPv4Network | IPv6Network


def within(inner: Network, outer: Network) -> bool:
    """Return True when `inner` lies inside `outer` (never across IP versions)."""
    return (
        inner.version == outer.version
        and int(outer.network_address) <= int(inner.network_address)
        and int(inner.broadcast_address) <= int(outer.broadcast_address)
    )


def exclude(network: Network, gone: Network) -> list[Network]:
    """Return `network` minus `gone` as networks (`network` itself across IP versions)."""
    if isinstance(network, IPv4Network) and isinstance(gone, IPv4Network):
        return list(network.address_exclude(gone))
    if isinstance(network, IPv6Network) and isinstance(gone, IPv6Network):
        return list(network.address_exclude(gone))
    return [network]


def collapse(networks: Iterable[Network]) -> list[Network]:
    """Return the networks collapsed into the fewest covering ones, IPv4 before IPv6."""
    given = list(networks)
    v4 = [n for n in given if isinstance(n, IPv4Network)]
    v6 = [n for n in given if isinstance(n, IPv6Network)]
    return [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]
