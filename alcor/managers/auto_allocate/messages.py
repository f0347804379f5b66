"""Auto-allocation contract: a project's network, subnets and router made on first ask.

Southbound: nothing of its own; the network, subnets, router, gateway and interfaces are
announced by their managers as any others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Command
from alcor.managers.common import RequestContext


@dataclass(frozen=True, slots=True, kw_only=True)
class GetAutoAllocatedTopology(Command[dict[str, Any]]):
    """Return {id: network id, project_id}, building the topology on first ask; with
    `dry_run`, only check that it could be built ({id: "dry-run=pass"})."""

    ctx: RequestContext
    project_id: str
    dry_run: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteAutoAllocatedTopology(Command[None]):
    """Delete a project's auto-allocated router, subnets and network (if any)."""

    ctx: RequestContext
    project_id: str
