"""Data-plane manager contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeDeliveryState(Command[dict[str, Any] | None]):
    """Return a node's southbound delivery state (GET /nodes/{id} "southbound")."""

    node_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeDeliveryResources(Command[list[dict[str, Any]]]):
    """Return per-key delivery records of a node, optionally filtered by kind/status."""

    node_id: str
    kind: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResyncNode(Command[None]):
    """Run the AGENT_RESTARTED procedure for a node without waiting for the agent."""

    node_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitIdle(Command[None]):
    """Wait until every committed change has been pushed and answered (tests, bench)."""

    timeout: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditNode(Command[dict[str, Any] | None]):
    """Compare what a node should hold with what it holds; repair sends the difference.

    Returns the audit (AuditResult.to_api()), or None for an unknown node.
    """

    node_id: str
    repair: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TracePacket(Command[dict[str, Any]]):
    """Follow a packet through the hosts' tables (POST /trace); the caller resolved the
    source (a port the caller may read, or an address outside every VPC)."""

    from_port: str | None
    src_ip: str
    to: str
    protocol: str
    port: int = 0
    source: str = "acked"  # acked: what the hosts acknowledged | intent: the database
