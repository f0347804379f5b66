"""CrudManager: generic create, update and delete of one resource table, with hooks.

The newer resources (RBAC policies, address scopes and groups, QoS, trunks, segments,
metering, flavors, ...) differ only in their checks, so the transaction, policy, revision,
tombstone and change-record plumbing lives here once. Subclasses override the hooks.
"""

from __future__ import annotations

from typing import Any

from alcor.managers.base import ResourceManager, apply_tag_op
from alcor.managers.common import (
    RequestContext,
    bump,
    changed,
    check_create_project,
    check_if_match,
    check_new_id,
    check_restricted,
    check_write,
    first_revision,
    stamp_new,
    tombstone,
)
from alcor.managers.crud import CreateCommand, DeleteCommand, UpdateCommand
from alcor.managers.quota.messages import CheckQuota
from alcor.resources import repo
from alcor.resources.base import defaults


class CrudManager(ResourceManager):
    """A manager whose resource needs only hooks around the generic writes."""

    label = "Resource"  # in the 409 of a client-supplied id that exists
    quota_resource: str | None = None

    @property
    def kind(self) -> str:
        """Return the tombstone kind (the resource's singular name)."""
        return self.resource.name

    @property
    def revisioned(self) -> bool:
        """Return True when the resource carries revision_number (standard attributes)."""
        return "revision_number" in self.resource.by_name

    def action(self, verb: str) -> str:
        """Return the policy action name (`create_address_scope`, ...)."""
        return f"{verb}_{self.resource.name}"

    # ---- hooks -------------------------------------------------------------------------
    def authorize_create(self, ctx: RequestContext, item: dict[str, Any]) -> None:
        """Refuse a create the caller may not make (default: project checks only)."""

    def authorize_write(self, ctx: RequestContext, obj: dict[str, Any], verb: str) -> None:
        """Refuse an update or delete the caller may not make (default: owner or admin)."""
        check_write(ctx, obj, self.action(verb))

    async def prepare_create(
        self, ctx: RequestContext, obj: dict[str, Any], given: dict[str, Any]
    ) -> None:
        """Check and complete a new object before it is stored."""

    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        """React to a stored new object (same transaction)."""

    async def prepare_update(
        self, ctx: RequestContext, obj: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        """Check (and complete) the changes of an update before they are stored."""

    async def after_update(
        self, ctx: RequestContext, obj: dict[str, Any], before: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        """React to a stored update (same transaction)."""

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        """Refuse a delete (in use, ...) or clean up what depends on the object."""

    async def after_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        """React to a delete (same transaction)."""

    # ---- generic handlers ----------------------------------------------------------------
    async def create(self, cmd: CreateCommand) -> list[dict[str, Any]]:
        """Create objects in one transaction (bulk: all or nothing)."""
        async with self._store.transaction():
            counts: dict[str, int] = {}
            for item in cmd.items:
                project = check_create_project(cmd.ctx, item, self.action("create"))
                check_restricted(self.resource, self.action("create"), item, cmd.ctx, creating=True)
                self.authorize_create(cmd.ctx, item)
                counts[project] = counts.get(project, 0) + 1
            if self.quota_resource is not None:
                for project, count in counts.items():
                    await self._bus.call(
                        CheckQuota(project_id=project, resource=self.quota_resource, count=count)
                    )
            out = [await self.create_one(cmd.ctx, item) for item in cmd.items]
        return await self.present(cmd.ctx, out)

    async def create_one(self, ctx: RequestContext, given: dict[str, Any]) -> dict[str, Any]:
        """Store one authorised object (inside the caller's transaction)."""
        db = self._store.db
        check_new_id(db, self.resource, given, self.label)
        obj = defaults(self.resource, given)
        revision = first_revision(db, self.kind, obj["id"]) if "id" in given else 1
        stamp_new(obj, revision)
        if "tags" in obj:
            obj["tags"] = sorted(set(obj["tags"]))
        await self.prepare_create(ctx, obj, given)
        repo.insert(db, self.resource, obj)
        await self.after_create(ctx, obj)
        return obj

    async def update(self, cmd: UpdateCommand) -> dict[str, Any]:
        """Change attributes (partial update) or tags."""
        async with self._store.transaction():
            obj = self.get_visible(cmd.ctx, cmd.id)
            self.authorize_write(cmd.ctx, obj, "update")
            check_restricted(
                self.resource, self.action("update"), cmd.changes, cmd.ctx, creating=False
            )
            check_if_match(obj, cmd.if_match)
            given = dict(cmd.changes)
            if cmd.tag_op is not None:
                given["tags"] = apply_tag_op(self.resource, obj, cmd.tag_op)
            diff = changed(obj, given)
            if diff:
                before = dict(obj)
                await self.prepare_update(cmd.ctx, obj, diff)
                self.write(obj, diff)
                await self.after_update(cmd.ctx, obj, before, diff)
        return (await self.present(cmd.ctx, [obj]))[0]

    def write(self, obj: dict[str, Any], diff: dict[str, Any]) -> None:
        """Store changes of `obj` (bumping its revision when it has one) and apply them."""
        if self.revisioned:
            diff = bump(obj, diff)
        else:
            obj.update(diff)
        repo.update(self._store.db, self.resource, obj["id"], diff)

    async def delete(self, cmd: DeleteCommand) -> None:
        """Delete one object."""
        async with self._store.transaction():
            obj = self.get_visible(cmd.ctx, cmd.id)
            self.authorize_write(cmd.ctx, obj, "delete")
            check_if_match(obj, cmd.if_match)
            await self.before_delete(cmd.ctx, obj)
            self.remove(obj)
            await self.after_delete(cmd.ctx, obj)

    def remove(self, obj: dict[str, Any]) -> None:
        """Delete the row (and remember its last revision)."""
        repo.delete(self._store.db, self.resource, obj["id"])
        if self.revisioned:
            tombstone(self._store.db, self.kind, obj["id"], obj["revision_number"] + 1)
