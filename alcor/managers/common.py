"""Helpers every resource manager uses: request context, visibility, policy, revisions.

This is shared plumbing, not a manager: managers import it freely.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from alcor import errors
from alcor.identity import Caller
from alcor.resources import repo
from alcor.resources.base import MISSING, Resource, defaults
from alcor.resources.repo import Where
from alcor.store import Store
from alcor.store.revisions import FIRST_REVISION, first_revision, next_revision


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asks, and with which visibility.

    `view_project` is None when the caller sees every project (admin on /v2.0); else the
    project whose member-visibility applies (the caller's, or the native path's).
    """

    caller: Caller
    view_project: str | None
    native: bool = False
    request_id: str = ""

    @property
    def is_admin(self) -> bool:
        """Return True when the caller has admin attribute rights."""
        return self.caller.is_admin

    @property
    def owner_project(self) -> str:
        """Return the project that new resources belong to by default."""
        return self.view_project or self.caller.project_id

    def can_write(self, project_id: str | None) -> bool:
        """Return True when the caller may change a resource of `project_id`."""
        if self.caller.is_reader_only:
            return False
        if self.view_project is None:
            return self.is_admin
        return project_id == self.view_project


def admin_context(project_id: str = "") -> RequestContext:
    """Return a context that sees and may do everything (internal work, tests)."""
    return RequestContext(Caller(project_id, frozenset({"admin"})), None)


def now_iso() -> str:
    """Return the current UTC time as ISO 8601 with second precision and `Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


_ENTROPY: list[int] = []
_BYTES = bytearray()


def random_bytes(n: int) -> bytes:
    """Return `n` bytes from os.urandom, read 4 KiB at a time like new_id's."""
    if len(_BYTES) < n:
        _BYTES.extend(os.urandom(4096))
    out = bytes(_BYTES[-n:])
    del _BYTES[-n:]
    return out


def new_id() -> str:
    """Return a new lower-case dashed UUID4.

    Same randomness as uuid.uuid4() (os.urandom), read 4 KiB at a time: ids are minted in
    bulk paths, where a syscall and a UUID object per id showed up in profiles.
    """
    if not _ENTROPY:
        block = os.urandom(4096)
        _ENTROPY.extend(int.from_bytes(block[i : i + 16], "big") for i in range(0, 4096, 16))
    value = _ENTROPY.pop() & ~(0xF << 76) & ~(0x3 << 62) | (4 << 76) | (2 << 62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def project_where(ctx: RequestContext, column: str = "project_id") -> Where | None:
    """Return the "owned by the viewing project" condition, or None for see-all."""
    if ctx.view_project is None:
        return None
    return Where(f't."{column}" = ?', (ctx.view_project,))


def deny(action: str) -> errors.NotAuthorized:
    """Return the PolicyNotAuthorized error for `action`."""
    return errors.NotAuthorized(action=action)


def check_write(ctx: RequestContext, obj: Mapping[str, Any], action: str) -> None:
    """Raise 403 unless the caller may change `obj`."""
    if not ctx.can_write(obj.get("project_id")):
        raise deny(action)


def check_create_project(ctx: RequestContext, given: dict[str, Any], action: str) -> str:
    """Resolve and authorise the project of a new resource; store it in `given`."""
    project = given.get("project_id")
    if ctx.caller.is_reader_only:
        raise deny(action)
    if project is None:
        project = ctx.owner_project
    elif ctx.native and ctx.view_project is not None and project != ctx.view_project:
        raise errors.HTTPBadRequest(msg="project_id does not match the path project")
    elif project != ctx.caller.project_id and not ctx.is_admin:
        raise foreign_project()
    given["project_id"] = project
    return project


def foreign_project() -> errors.HTTPBadRequest:
    """Return the 400 of a non-admin naming another project in a create body.

    Neutron answers 400 here (neutron-tempest-plugin asserts it); the spec had 403.
    """
    return errors.HTTPBadRequest(
        msg="Specifying 'project_id' or 'tenant_id' other than the "
        "authenticated project in request requires admin "
        "privileges"
    )


def check_restricted(
    resource: Resource,
    action: str,
    given: Mapping[str, Any],
    ctx: RequestContext,
    *,
    creating: bool,
    network_owner: bool = False,
) -> None:
    """Apply the restricted-attribute policy (northbound §1.4.4) to the given attributes.

    On create, a value equal to the attribute's static default does not count as set.
    """
    for name, value in given.items():
        attr = resource.attr(name)
        if attr is None:
            continue
        mark = attr.create if creating else attr.update
        if mark in ("Y", "R", "-"):
            continue
        if (
            creating
            and attr.default is not MISSING
            and not callable(attr.default)
            and value == attr.default
        ):
            continue
        if not _allowed(mark, ctx, network_owner):
            raise deny(f"{action}:{name}")


def _allowed(mark: str, ctx: RequestContext, network_owner: bool) -> bool:
    if ctx.is_admin:
        return True
    if mark == "S":
        return ctx.caller.is_service
    if mark == "W":
        return network_owner
    return False


def check_if_match(obj: Mapping[str, Any], expected: int | None) -> None:
    """Raise 412 when an If-Match revision constraint does not hold."""
    if expected is not None and obj.get("revision_number") != expected:
        raise errors.RevisionNumberConstraintFailed(
            expected=expected, current=obj.get("revision_number")
        )


def stamp_new(obj: dict[str, Any], revision: int = FIRST_REVISION) -> dict[str, Any]:
    """Fill the standard create-time attributes."""
    now = now_iso()
    obj.setdefault("id", new_id())
    obj["revision_number"] = revision
    obj["created_at"] = now
    obj["updated_at"] = now
    return obj


def bump(obj: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Add a revision bump and a new updated_at to `changes`; apply all to `obj`."""
    changes["revision_number"] = next_revision(obj)
    changes["updated_at"] = now_iso()
    obj.update(changes)
    return changes


def changed(obj: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Return the subset of `given` whose values differ from `obj`."""
    out = {}
    for name, value in given.items():
        if name == "tags":
            if sorted(value) != sorted(obj.get("tags") or []):
                out[name] = sorted(value)
        elif obj.get(name) != value:
            out[name] = value
    return out


async def new_record(
    db: Store, resource: Resource, given: Mapping[str, Any], label: str
) -> dict[str, Any]:
    """Return a new `resource` object: `given` with its defaults and create-time stamps.

    A client-chosen id must be unused (409 naming `label`), and starts above its tombstone.
    """
    await check_new_id(db, resource, given, label)
    obj = defaults(resource, given)
    if "id" in given:
        return stamp_new(obj, await first_revision(db, resource.name, given["id"]))
    return stamp_new(obj, FIRST_REVISION)


async def check_new_id(db: Store, resource: Resource, given: Mapping[str, Any], label: str) -> None:
    """Raise 409 Conflict when a client-supplied id is already used."""
    obj_id = given.get("id")
    if obj_id is not None and await repo.get(db, resource, obj_id) is not None:
        raise errors.Conflict(resource=label, id=obj_id)


def visible_or_404(
    obj: Mapping[str, Any] | None, resource: Resource, obj_id: str, visible: bool
) -> Mapping[str, Any]:
    """Return `obj` if it exists and is visible, else raise the resource's NotFound."""
    if obj is None or not visible:
        raise resource.not_found(id=obj_id)
    return obj


def zones_of(hints: Iterable[str], configured: Iterable[str]) -> list[str]:
    """Return the availability zones of a network or router with these hints: the hints
    (each a configured zone, else 404 AvailabilityZoneNotFound), or every zone."""
    zones = list(configured)
    for zone in hints:
        if zone not in zones:
            raise errors.AvailabilityZoneNotFound(availability_zone=zone)
    return list(hints) or zones


def sorted_tags(tags: Iterable[str]) -> list[str]:
    """Return tags de-duplicated and sorted (the stored form)."""
    return sorted(set(tags))


def subnet_mtu_minimum(subnets: Iterable[Mapping[str, Any]]) -> int:
    """Return the smallest network MTU these subnets allow: 1280 with IPv6, 68 with IPv4
    only, 0 without subnets (Neutron's NetworkMTUSubnetConflict rule)."""
    versions = {s["ip_version"] for s in subnets}
    return 1280 if 6 in versions else 68 if versions else 0
