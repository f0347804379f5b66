"""Extra-route rules (northbound §6.4). Pure."""

from __future__ import annotations

import ipaddress
from typing import Any

from alcor import errors
from alcor.resources.records import Route


def check(
    router_id: str,
    routes: list[Route],
    subnets: list[dict[str, Any]],
    own_ips: set[str],
    max_routes: int,
) -> None:
    """Refuse routes whose nexthop is not on a connected subnet, or too many routes."""
    if len(routes) > max_routes:
        raise errors.RoutesExhausted(router_id=router_id, quota=max_routes)
    networks = [ipaddress.ip_network(s["cidr"]) for s in subnets]
    for route in routes:
        destination = _destination(routes, route["destination"])
        hop = ipaddress.ip_address(route["nexthop"])
        if hop.version != destination.version:
            raise errors.InvalidRoutes(
                routes=routes, reason="the nexthop is not of the destination's IP version"
            )
        if not any(hop in net for net in networks):
            raise errors.InvalidRoutes(
                routes=routes, reason="the nexthop is not connected with router"
            )
        if str(hop) in own_ips:
            raise errors.InvalidRoutes(routes=routes, reason="the nexthop is used by router")


def _destination(routes: list[Route], text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text)
    except ValueError:
        raise errors.InvalidRoutes(
            routes=routes, reason=f"{text} is not a valid CIDR with its host bits zero"
        ) from None


def canonical(route: Route) -> Route:
    """Return a route with its destination and nexthop in canonical text."""
    return {
        "destination": str(ipaddress.ip_network(route["destination"])),
        "nexthop": str(ipaddress.ip_address(route["nexthop"])),
    }
