"""Flavor manager contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alcor.bus import Command
from alcor.managers.common import RequestContext
from alcor.managers.crud import (
    CreateCommand,
    DeleteCommand,
    GetCommand,
    ListCommand,
    UpdateCommand,
)


class CreateFlavors(CreateCommand):
    """Create flavors (admin)."""


class GetFlavor(GetCommand):
    """Return one flavor."""


class ListFlavors(ListCommand):
    """List flavors."""


class UpdateFlavor(UpdateCommand):
    """Update a flavor (admin)."""


class DeleteFlavor(DeleteCommand):
    """Delete a flavor no router uses (admin)."""


class CreateServiceProfiles(CreateCommand):
    """Create service profiles (admin)."""


class GetServiceProfile(GetCommand):
    """Return one service profile (admin)."""


class ListServiceProfiles(ListCommand):
    """List service profiles (admin)."""


class UpdateServiceProfile(UpdateCommand):
    """Update a service profile (admin)."""


class DeleteServiceProfile(DeleteCommand):
    """Delete a service profile no flavor uses (admin)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BindServiceProfile(Command[dict[str, Any] | None]):
    """Add (`add`) or remove a flavor's service profile; return {"id": profile} on add."""

    ctx: RequestContext
    flavor_id: str
    profile_id: str
    add: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckFlavor(Command[None]):
    """Raise unless the flavor exists, is enabled and is of `service_type`."""

    flavor_id: str
    service_type: str
