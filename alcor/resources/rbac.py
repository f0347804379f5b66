"""RBAC policies (/v2.0/rbac-policies): share an object with projects, or make a network
external for them (rbac-policies and the rbac-* aliases of each object type)."""

from __future__ import annotations

import uuid
from typing import Any

from alcor import errors
from alcor.resources.base import Attr, Resource
from alcor.resources.types import Enum, Invalid, String, Type, Uuid, pattern_schema

# A project id as Keystone writes them (32 hex digits) or dashed as a UUID.
UUID_TEXT = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

ACCESS_SHARED = "access_as_shared"
ACCESS_EXTERNAL = "access_as_external"
WILDCARD = "*"
OBJECT_TYPES = (
    "network",
    "qos_policy",
    "security_group",
    "address_scope",
    "subnetpool",
    "address_group",
)


class RbacPolicyNotFound(errors.NotFound):
    """No visible RBAC policy with that id."""

    type_name = None
    message = "RBAC policy of type {object_type} with ID {id} not found"

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        fields.setdefault("object_type", "unknown")
        super().__init__(message, **fields)


class RbacPolicyInUse(errors.Conflict):
    """Removing the policy would take access away from a project that uses the object."""

    message = (
        "RBAC policy on object {object_id} cannot be removed because other objects depend "
        "on it.\nDetails: {details}"
    )


class DuplicateRbacPolicy(errors.Conflict):
    """The same (object, action, target) exists."""

    message = "An RBAC policy already exists with those values."


class TargetProject(Type):
    """A project id (UUID-like, as Keystone's: with or without dashes) or `*`, kept as given."""

    def convert(self, value: Any) -> str:
        if value == WILDCARD:
            return WILDCARD
        if not isinstance(value, str):
            raise Invalid(f"'{value}' is not a valid target project ID; expected a UUID or '*'")
        try:
            uuid.UUID(value)
        except ValueError:
            raise Invalid(
                f"'{value}' is not a valid target project ID; expected a UUID or '*'"
            ) from None
        return str(value)

    def schema(self) -> dict[str, Any]:
        return pattern_schema(r"\*", UUID_TEXT)


RBAC_POLICY = Resource(
    name="rbac_policy",
    collection="rbac_policies",
    path="rbac-policies",
    table="rbac_policies",
    not_found=RbacPolicyNotFound,
    has_tags=False,
    attrs=(
        Attr("id", Uuid(), create="Y"),
        Attr("project_id", String(255), create="Y"),
        Attr("tenant_id", String(255), create="Y", column="project_id", filter=True, sort=True),
        Attr("object_type", Enum(OBJECT_TYPES, fold_case=True), create="R"),
        Attr("object_id", Uuid(), create="R"),
        Attr("action", Enum((ACCESS_SHARED, ACCESS_EXTERNAL)), create="R"),
        Attr("target_tenant", TargetProject(), create="R", update="Y"),
    ),
)


# ---- queries the owners of shareable objects use (synchronous SQL) ------------------------
_TARGETED = (
    "SELECT object_id FROM rbac_policies WHERE object_type = ? AND action = ? AND target_tenant = ?"
)


def shared_where_sql(column: str = "t.id") -> str:
    """Return SQL (params: object_type, project) for "has a shared policy targeting project"."""
    return (
        f"{column} IN (SELECT object_id FROM rbac_policies WHERE object_type = ? "
        f"AND action = '{ACCESS_SHARED}' AND target_tenant = ?)"
    )


def any_access_sql(column: str = "t.id") -> str:
    """Return SQL (params: object_type, project) for "some policy targets project or all"."""
    return (
        f"{column} IN (SELECT object_id FROM rbac_policies WHERE object_type = ? "
        f"AND target_tenant IN (?, '{WILDCARD}'))"
    )


async def targeted_ids(db: Any, object_type: str, action: str, project: str) -> set[str]:
    """Return the ids of `object_type` objects with an `action` policy targeting `project`."""
    return {row[0] for row in await db.fetch(_TARGETED, [object_type, action, project])}


async def has_policy(
    db: Any, object_type: str, object_id: str, action: str, targets: tuple[str, ...] = ()
) -> bool:
    """Return True when the object has an `action` policy (targeting one of `targets`)."""
    sql = "SELECT 1 FROM rbac_policies WHERE object_type = ? AND object_id = ? AND action = ?"
    params: list[Any] = [object_type, object_id, action]
    if targets:
        sql += f" AND target_tenant IN ({', '.join('?' for _ in targets)})"
        params.extend(targets)
    return await db.fetchone(sql + " LIMIT 1", params) is not None


async def mark_shared(db: Any, object_type: str, project: str, objs: list[dict[str, Any]]) -> None:
    """Set `shared` on the objects shared with `project` through a targeted policy (Neutron
    renders `shared` per caller: the wildcard, or a policy naming the caller's project)."""
    if not project or not objs or all(o.get("shared") for o in objs):
        return
    ids = await targeted_ids(db, object_type, ACCESS_SHARED, project)
    if ids:
        for obj in objs:
            if obj["id"] in ids:
                obj["shared"] = True


def shared_filter(filters: dict[str, list[Any]], object_type: str, project: str) -> list[Any]:
    """Pop a `shared=` list filter; return its SQL condition as (sql, params) pairs: what the
    caller sees as shared is the wildcard flag or a policy naming the caller's project."""
    values = filters.pop("shared", None)
    if values is None or len(set(values)) != 1:
        return []
    shared = f"(t.shared = 1 OR {shared_where_sql()})"
    return [(shared if values[0] else f"NOT {shared}", (object_type, project))]


def visible_sql(column: str = "t.id") -> str:
    """Return SQL (params: project, object_type, project): owned, shared with all (the
    `shared` flag) or shared with the project through a policy."""
    return f"t.project_id = ? OR t.shared = 1 OR {shared_where_sql(column)}"
