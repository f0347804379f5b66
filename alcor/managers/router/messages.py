"""Router manager contract."""

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
    ViewCommand,
)
from alcor.resources.records import Route


class CreateRouters(CreateCommand):
    """Create routers (bulk: all or nothing)."""


class GetRouter(GetCommand):
    """Return one visible router."""


class ViewRouters(ViewCommand):
    """Show stored routers (change record objects) as GetRouter would, if visible."""


class ListRouters(ListCommand):
    """List visible routers."""


class UpdateRouter(UpdateCommand):
    """Update a router (gateway, routes, name, ...)."""


class DeleteRouter(DeleteCommand):
    """Delete a router without interfaces."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterInterface(Command[dict[str, Any]]):
    """Add (`add=True`) or remove an interface by subnet_id or port_id."""

    ctx: RequestContext
    id: str
    body: dict[str, Any]
    add: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class EditExtraRoutes(Command[dict[str, Any]]):
    """Atomically add (`add=True`) or remove extra routes."""

    ctx: RequestContext
    id: str
    routes: list[Route]
    add: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FindRouterForFloatingIp(Command[str | None]):
    """Return the router with a gateway on `network_id` and an interface on `subnet_id`."""

    network_id: str
    subnet_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupRouters(Command[dict[str, dict[str, Any]]]):
    """Return {id: router} for existing ids (internal)."""

    ids: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterChanged(Event):
    """A router's routing state changed (interfaces, routes, gateway, admin state)."""

    router: dict[str, Any]
    subnet_ids: frozenset[str]  # its interface subnets before and after the change


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterDeleted(Event):
    """A router was deleted."""

    router: dict[str, Any]
