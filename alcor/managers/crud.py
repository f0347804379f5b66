"""Base shapes of the per-resource CRUD commands (each manager subclasses them by name)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alcor.bus import Command
from alcor.managers.common import RequestContext
from alcor.resources.repo import ListQuery, Page


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateCommand(Command[list[dict[str, Any]]]):
    """Create one or more resources, all or nothing; returns them in request order."""

    ctx: RequestContext
    items: list[dict[str, Any]]
    parent: str | None = None  # the parent's id for sub-resources (/qos/policies/{id}/...)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCommand(Command[dict[str, Any]]):
    """Return one visible resource or raise its NotFound."""

    ctx: RequestContext
    id: str
    parent: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListCommand(Command[Page]):
    """Return one page of the visible resources matching a query."""

    ctx: RequestContext
    query: ListQuery
    parent: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateCommand(Command[dict[str, Any]]):
    """Change attributes (partial update); `tag_op` edits tags instead: (op, tag or list)."""

    ctx: RequestContext
    id: str
    parent: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    if_match: int | None = None
    tag_op: tuple[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewCommand(Command[list[dict[str, Any] | None]]):
    """Show stored objects (e.g. from the change record) as Get would, in order: each one
    decorated if `ctx` may read it, else None."""

    ctx: RequestContext
    objs: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteCommand(Command[None]):
    """Delete one resource."""

    ctx: RequestContext
    id: str
    parent: str | None = None
    if_match: int | None = None
