"""Load southbound transports by entry-point name (group `alcor.southbound`)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from alcor.config import TRANSPORT_GROUP, ConfigError, installed_transports

GROUP = TRANSPORT_GROUP
# A node mode, not a plugin: per-host states over grpc, large VPCs' neighbors over kafka.
AUTO = "auto"

# The controller-side servers that agents call (RequestGoalStates), by transport name.
SERVER_GROUP = "alcor.southbound.servers"

__all__ = [
    "AUTO",
    "GROUP",
    "SERVER_GROUP",
    "installed_transports",
    "node_transports",
    "server_class",
    "transport_class",
]


def node_transports() -> list[str]:
    """Return every value a node's `transport` accepts: `auto` and the installed names."""
    return [AUTO, *installed_transports()]


def transport_class(name: str, overrides: Mapping[str, Any] | None = None) -> Any:
    """Return the transport class called `name` (overrides first, then entry points)."""
    if overrides and name in overrides:
        return overrides[name]
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    if name not in found:
        raise ConfigError(
            [
                f"unknown southbound transport {name!r}; installed: "
                f"{', '.join(sorted(found)) or 'none'}"
            ]
        )
    return found[name].load()


def server_class(name: str) -> Any:
    """Return the controller server class a transport plugin provides (group SERVER_GROUP)."""
    found = {ep.name: ep for ep in entry_points(group=SERVER_GROUP)}
    if name not in found:
        raise ConfigError(
            [
                f"no controller server for transport {name!r}; installed: "
                f"{', '.join(sorted(found)) or 'none'}"
            ]
        )
    return found[name].load()
