"""Load southbound transports by entry-point name (group `alcor.southbound`)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from alcor.config import ConfigError

GROUP = "alcor.southbound"


def transport_class(name: str, overrides: Mapping[str, Any] | None = None) -> Any:
    """Return the transport class called `name` (overrides first, then entry points)."""
    if overrides and name in overrides:
        return overrides[name]
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    if name not in found:
        raise ConfigError([f"unknown southbound transport {name!r}; installed: "
                           f"{', '.join(sorted(found)) or 'none'}"])
    return found[name].load()
