"""Trunk manager contract.

Southbound: a trunk's subports are delivered on its parent port's host, each as a VLAN
(segmentation_id) on the parent's interface. TrunkChanged carries the trunk with all its
`sub_ports` after every create, update and subport change; TrunkDeleted the last state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Command, Event
from alcor.managers.common import RequestContext
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
)


class CreateTrunks(CreateCommand):
    """Create trunks."""


class GetTrunk(GetCommand):
    """Return one visible trunk with its subports."""


class ListTrunks(ListCommand):
    """List visible trunks."""


class UpdateTrunk(UpdateCommand):
    """Update a trunk's name, description or admin state."""


class DeleteTrunk(DeleteCommand):
    """Delete an enabled trunk (its subports are released)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EditSubports(Command[dict[str, Any]]):
    """add_subports / remove_subports; return the trunk."""

    ctx: RequestContext
    id: str
    sub_ports: list[dict[str, Any]]
    add: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckPortNotInTrunk(Command[None]):
    """Raise PortInUseAsTrunkParent / PortInUseAsSubPort for a port a trunk uses."""

    port_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TrunkOfParent(Command[str | None]):
    """Return the id of the trunk whose parent port is `port_id`, or None."""

    port_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TrunkDetails(Command[dict[str, dict[str, Any]]]):
    """Return {parent port id: trunk_details} for the given ports that are trunk parents."""

    port_ids: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrunkChanged(Event):
    """A trunk was created or changed (`trunk` has its `sub_ports`)."""

    trunk: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrunkDeleted(Event):
    """A trunk was deleted."""

    trunk: dict[str, Any]
