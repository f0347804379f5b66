"""Quota manager contract."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from alcor.bus import Command
from alcor.managers.common import RequestContext
from alcor.store import Store

QUOTA_RESOURCES = (
    "network",
    "subnet",
    "port",
    "router",
    "floatingip",
    "security_group",
    "security_group_rule",
    "rbac_policy",
)
UsageCounter = Callable[[Store, str], Awaitable[int]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterUsageCounter(Command[None]):
    """Tell the quota manager how to count a resource's usage per project."""

    resource: str
    counter: UsageCounter


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckQuota(Command[None]):
    """Raise OverQuota when `count` more of `resource` would exceed the project's limit.

    Call it inside the creating transaction, before inserting.
    """

    project_id: str
    resource: str
    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ListQuotas(Command[list[dict[str, Any]]]):
    """Return the projects with overrides and their effective limits (admin)."""

    ctx: RequestContext
    project_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetQuota(Command[dict[str, Any]]):
    """Return a project's effective limits, defaults (`kind="default"`) or usage (`"details"`)."""

    ctx: RequestContext
    project_id: str
    kind: str = "limits"


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateQuota(Command[dict[str, Any]]):
    """Set overrides for a project (admin); returns the effective limits."""

    ctx: RequestContext
    project_id: str
    limits: dict[str, int]
    # Neutron's check_limit: refuse (400) a limit below the project's current usage.
    check_limit: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteQuota(Command[None]):
    """Remove all overrides of a project (admin)."""

    ctx: RequestContext
    project_id: str
