"""Security group manager contract."""

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


class CreateSecurityGroups(CreateCommand):
    """Create security groups."""


class GetSecurityGroup(GetCommand):
    """Return one visible security group with its rules."""


class ViewSecurityGroups(ViewCommand):
    """Show stored security groups (change record objects) as GetSecurityGroup would, if visible."""


class ListSecurityGroups(ListCommand):
    """List visible security groups."""


class UpdateSecurityGroup(UpdateCommand):
    """Update a security group."""


class DeleteSecurityGroup(DeleteCommand):
    """Delete a security group."""


class CreateSecurityGroupRules(CreateCommand):
    """Create security group rules."""


class GetSecurityGroupRule(GetCommand):
    """Return one visible rule."""


class ViewSecurityGroupRules(ViewCommand):
    """Show stored security group rules (change record objects) as GetSecurityGroupRule would, if visible."""


class ListSecurityGroupRules(ListCommand):
    """List visible rules."""


class UpdateSecurityGroupRule(UpdateCommand):
    """Update a rule's description."""


class DeleteSecurityGroupRule(DeleteCommand):
    """Delete a rule."""


class CreateDefaultSecurityGroupRules(CreateCommand):
    """Create rule templates (admin)."""


class GetDefaultSecurityGroupRule(GetCommand):
    """Return one rule template."""


class ListDefaultSecurityGroupRules(ListCommand):
    """List the rule templates."""


class UpdateDefaultSecurityGroupRule(UpdateCommand):
    """Rule templates do not change (403)."""


class DeleteDefaultSecurityGroupRule(DeleteCommand):
    """Delete a rule template (admin)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EnsureDefaultSecurityGroup(Command[str]):
    """Create the project's default group if missing; return its id."""

    project_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckPortSecurityGroups(Command[None]):
    """Raise SecurityGroupNotFound unless every group exists and belongs to the project."""

    ids: list[str]
    project_id: str
    admin: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupSecurityGroups(Command[dict[str, dict[str, Any]]]):
    """Return {id: group with rules} for existing ids (internal)."""

    ids: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityGroupChanged(Event):
    """A group or its rules changed (revision bumped)."""

    security_group_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityGroupDeleted(Event):
    """A group was deleted."""

    security_group: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressGroupEdited(Command[None]):
    """An address group's addresses changed: bump every group with a rule naming it, so
    the hosts holding those groups get their rules again at a higher revision."""

    address_group_id: str
