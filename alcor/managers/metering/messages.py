"""Metering manager contract.

Southbound: a label applies to every router of its project (all routers when shared); its
rules say which traffic (direction, prefixes, excluded) the routers' hosts count.
MeteringChanged carries the label with its rules after each change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Event
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
)


class CreateMeteringLabels(CreateCommand):
    """Create metering labels (admin)."""


class GetMeteringLabel(GetCommand):
    """Return one metering label."""


class ListMeteringLabels(ListCommand):
    """List metering labels."""


class UpdateMeteringLabel(UpdateCommand):
    """Metering labels do not change (400 for any attribute)."""


class DeleteMeteringLabel(DeleteCommand):
    """Delete a metering label and its rules (admin)."""


class CreateMeteringLabelRules(CreateCommand):
    """Create metering label rules (admin)."""


class GetMeteringLabelRule(GetCommand):
    """Return one metering label rule."""


class ListMeteringLabelRules(ListCommand):
    """List metering label rules."""


class UpdateMeteringLabelRule(UpdateCommand):
    """Metering label rules do not change."""


class DeleteMeteringLabelRule(DeleteCommand):
    """Delete a metering label rule (admin)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MeteringChanged(Event):
    """A label or one of its rules was created or deleted: `label` with its `rules`, or
    `deleted` when the label is gone."""

    label: dict[str, Any]
    deleted: bool = False
