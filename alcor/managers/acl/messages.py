"""Network ACL manager contract."""

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


class CreateNetworkAcls(CreateCommand):
    """Create ACLs, each with its four default rules (bulk: all or nothing)."""


class GetNetworkAcl(GetCommand):
    """Return one visible ACL with its rules."""


class ViewNetworkAcls(ViewCommand):
    """Show stored network ACLs (change record objects) as GetNetworkAcl would, if visible."""


class ListNetworkAcls(ListCommand):
    """List visible ACLs."""


class UpdateNetworkAcl(UpdateCommand):
    """Update an ACL's name, description or associated subnets."""


class DeleteNetworkAcl(DeleteCommand):
    """Delete an ACL without associated subnets, with its rules."""


class CreateNetworkAclRules(CreateCommand):
    """Create ACL rules (bulk: all or nothing)."""


class GetNetworkAclRule(GetCommand):
    """Return one visible ACL rule."""


class ViewNetworkAclRules(ViewCommand):
    """Show stored network ACL rules (change record objects) as GetNetworkAclRule would, if visible."""


class ListNetworkAclRules(ListCommand):
    """List visible ACL rules."""


class UpdateNetworkAclRule(UpdateCommand):
    """Update an ACL rule (not a default rule)."""


class DeleteNetworkAclRule(DeleteCommand):
    """Delete an ACL rule (not a default rule)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateNetworkAcls(Command[list[dict[str, Any]]]):
    """Native bulk PUT: each item (with its `id`) as a single update, all or nothing."""

    ctx: RequestContext
    items: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateNetworkAclRules(Command[list[dict[str, Any]]]):
    """Native bulk PUT of rules: each item (with its `id`) as a single update."""

    ctx: RequestContext
    items: list[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class DetachSubnetFromAcls(Command[None]):
    """Drop a subnet that is being deleted from the ACL it is associated with (internal)."""

    subnet_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteNetworkAcls(Command[None]):
    """Delete every ACL of a network that is being deleted (internal)."""

    network_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkAclChanged(Event):
    """An ACL, its subnet associations or its rules changed (revision bumped)."""

    network_acl: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkAclDeleted(Event):
    """An ACL was deleted."""

    network_acl: dict[str, Any]
