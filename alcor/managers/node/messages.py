"""Node manager contract (the compute-node registry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Command, Event
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
    ViewCommand,
)


class CreateNodes(CreateCommand):
    """Register nodes (bulk: all or nothing)."""


class GetNode(GetCommand):
    """Return one node."""


class ViewNodes(ViewCommand):
    """Show stored nodes (change record objects) as GetNode would, if visible."""


class ListNodes(ListCommand):
    """List nodes."""


class UpdateNode(UpdateCommand):
    """Update a node."""


class DeleteNode(DeleteCommand):
    """Delete a node."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupNodeByName(Command[dict[str, Any] | None]):
    """Return the node whose node_name is `name` (a port's binding:host_id), or None."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupNodes(Command[list[dict[str, Any]]]):
    """Return every node (internal, for the data plane)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeCreated(Event):
    """A node was registered."""

    node: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeUpdated(Event):
    """A node changed."""

    node: dict[str, Any]
    before: dict[str, Any]
    changed: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeDeleted(Event):
    """A node was deleted."""

    node: dict[str, Any]
