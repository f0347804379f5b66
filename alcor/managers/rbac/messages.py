"""RBAC manager contract: policy CRUD, and the hooks of the managers whose objects it shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


class CreateRbacPolicies(CreateCommand):
    """Create RBAC policies."""


class GetRbacPolicy(GetCommand):
    """Return one RBAC policy the caller owns (admin: any)."""


class ListRbacPolicies(ListCommand):
    """List the caller's RBAC policies (admin: all)."""


class UpdateRbacPolicy(UpdateCommand):
    """Change the target project of a policy."""


class DeleteRbacPolicy(DeleteCommand):
    """Delete a policy unless a project that loses access still uses the object."""


@dataclass(frozen=True)
class RbacObjectType:
    """What the RBAC manager needs from the manager that owns one object type.

    `lookup(ctx, id)` returns the object as `ctx` sees it or raises its NotFound.
    `bound_projects(id, action, losing)` returns the projects whose resources depend on
    access through `action` (ports on a shared network, routers on an external one, ...);
    it may raise RbacPolicyInUse itself when `losing` may never go (a default network).
    `check_target(id, target)`, when given, may refuse a new target.
    `changed(id)` runs after a policy of the object was created, updated or deleted (in the
    same transaction): the owner recomputes `shared` / `router:external` and its revision.
    """

    object_type: str
    actions: tuple[str, ...]
    lookup: Callable[[RequestContext, str], Awaitable[dict[str, Any]]]
    bound_projects: Callable[[str, str, str], Awaitable[set[str]]]
    changed: Callable[[str], Awaitable[None]]
    # (id, target project): raise to refuse sharing with that target (a subnet pool whose
    # address scope the target cannot use).
    check_target: Callable[[str, str], Awaitable[None]] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterRbacObject(Command[None]):
    """Make an object type shareable through RBAC policies (called by its manager at start)."""

    hooks: RbacObjectType


@dataclass(frozen=True, slots=True, kw_only=True)
class SetWildcardPolicy(Command[None]):
    """Create or delete the `*` policy of `action` on an object (its `shared` or
    `router:external` attribute); deleting checks that no project depends on it."""

    object_type: str
    object_id: str
    project_id: str
    action: str
    present: bool
    notify: bool = True  # False: the owner writes the object's flags itself (its own create)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteObjectPolicies(Command[None]):
    """Delete every policy of an object (of one action when given), without checks."""

    object_type: str
    object_id: str
    action: str | None = None
