"""CrudManager: generic create, update and delete of one resource table, with hooks.

The newer resources (RBAC policies, address scopes and groups, QoS, trunks, segments,
metering, flavors, ...) differ only in their checks, so the transaction, policy, revision,
tombstone and change-record plumbing lives here once. Subclasses override the hooks.
"""

from __future__ import annotations

from typing import Any

from alcor.managers.base import ResourceManager
from alcor.managers.common import (
    RequestContext,
    bump,
    changed,
    check_create_project,
    check_restricted,
    deny,
    new_record,
)
from alcor.managers.crud import CreateCommand, DeleteCommand, UpdateCommand
from alcor.managers.quota.messages import CheckQuota
from alcor.managers.rbac.messages import (
    DeleteObjectPolicies,
    RbacObjectType,
    RegisterRbacObject,
    SetWildcardPolicy,
)
from alcor.resources import repo
from alcor.resources.rbac import (
    ACCESS_SHARED,
    has_policy,
    mark_shared,
    shared_filter,
    visible_sql,
)
from alcor.resources.repo import ListQuery, Where
from alcor.store.revisions import tombstone


class CrudManager(ResourceManager):
    """A manager whose resource needs only hooks around the generic writes."""

    label = "Resource"  # in the 409 of a client-supplied id that exists
    quota_resource: str | None = None
    # A list marker the caller cannot see starts the list from the beginning, as Neutron's
    # object-based resources (QoS, trunks, ...) page (neutron-tempest-plugin follows an
    # admin's `next` link as a member).
    lenient_marker = True

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
        db = self._store
        obj = await new_record(db, self.resource, given, self.label)
        if "tags" in obj:
            obj["tags"] = sorted(set(obj["tags"]))
        await self.prepare_create(ctx, obj, given)
        await repo.insert(db, self.resource, obj)
        await self.after_create(ctx, obj)
        return obj

    async def update(self, cmd: UpdateCommand) -> dict[str, Any]:
        """Change attributes (partial update) or tags."""
        async with self._store.transaction():
            obj = await self.writable(
                cmd.ctx, cmd.id, self.action("update"), cmd.if_match, cmd.changes
            )
            given = self.given_changes(obj, cmd)
            diff = changed(obj, given)
            if diff:
                before = dict(obj)
                await self.prepare_update(cmd.ctx, obj, diff)
                await self.write(obj, diff)
                await self.after_update(cmd.ctx, obj, before, diff)
        return (await self.present(cmd.ctx, [obj]))[0]

    async def write(self, obj: dict[str, Any], diff: dict[str, Any]) -> None:
        """Store changes of `obj` (bumping its revision when it has one) and apply them."""
        if self.revisioned:
            diff = bump(obj, diff)
        else:
            obj.update(diff)
        await repo.update(self._store, self.resource, obj["id"], diff)

    async def delete(self, cmd: DeleteCommand) -> None:
        """Delete one object."""
        async with self._store.transaction():
            obj = await self.writable(cmd.ctx, cmd.id, self.action("delete"), cmd.if_match)
            await self.before_delete(cmd.ctx, obj)
            await self.remove(obj)
            await self.after_delete(cmd.ctx, obj)

    async def remove(self, obj: dict[str, Any]) -> None:
        """Delete the row (and remember its last revision)."""
        await repo.delete(self._store, self.resource, obj["id"])
        if self.revisioned:
            await tombstone(self._store, self.kind, obj)


class AdminWrites(CrudManager):
    """A CrudManager whose objects only admins create, change and delete."""

    def authorize_create(self, ctx: RequestContext, item: dict[str, Any]) -> None:
        if not ctx.is_admin:
            raise deny(self.action("create"))

    def check_write(self, ctx: RequestContext, obj: dict[str, Any], action: str) -> None:
        if not ctx.is_admin:
            raise deny(action)


class AdminOnly(AdminWrites):
    """... which only admins read, too: others get 404s and empty lists, as Neutron's
    admin-only read policies answer."""

    def visible_where(self, ctx: RequestContext) -> list[Where]:
        return [] if ctx.is_admin else [Where("FALSE", ())]

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        return ctx.is_admin


class SharedCrudManager(CrudManager):
    """A CrudManager whose objects RBAC policies share with projects.

    `shared` is stored as the flag "a wildcard access_as_shared policy exists" and shown
    per caller (also true when a policy names the caller's project), as in Neutron.
    Subclasses name their `object_type` and say which projects depend on an object.
    """

    object_type = ""

    async def register_rbac(self) -> None:
        """Make this manager's objects shareable (call from start())."""
        await self._bus.call(
            RegisterRbacObject(
                hooks=RbacObjectType(
                    object_type=self.object_type,
                    actions=(ACCESS_SHARED,),
                    lookup=self._rbac_lookup,
                    bound_projects=self._rbac_bound,
                    changed=self._rbac_changed,
                    check_target=self._rbac_check_target,
                )
            )
        )

    async def bound_projects(self, obj: dict[str, Any]) -> set[str]:
        """Return the projects whose resources use the object (they keep their access)."""
        return set()

    async def check_share_target(self, obj: dict[str, Any], target: str) -> None:
        """Refuse to share the object with `target` (default: anyone may get it)."""

    async def after_rbac_change(self, obj: dict[str, Any]) -> None:
        """React to a policy change of the object (its revision was bumped)."""

    # ---- visibility ----------------------------------------------------------------------
    def visible_where(self, ctx: RequestContext) -> list[Where]:
        if ctx.view_project is None:
            return []
        project = ctx.view_project
        return [Where(visible_sql(), (project, self.object_type, project))]

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        if ctx.view_project is None or obj["project_id"] == ctx.view_project or obj["shared"]:
            return True
        return await has_policy(
            self._store, self.object_type, obj["id"], ACCESS_SHARED, (ctx.view_project,)
        )

    async def present(self, ctx: RequestContext, objs: Any) -> list[dict[str, Any]]:
        out = await self.decorate(objs)
        await mark_shared(self._store, self.object_type, ctx.caller.project_id, out)
        return out

    def query_where(self, ctx: RequestContext, query: ListQuery) -> list[Where]:
        conditions = shared_filter(query.filters, self.object_type, ctx.caller.project_id)
        return [Where(sql, params) for sql, params in conditions] + super().query_where(ctx, query)

    # ---- the wildcard policy behind `shared` ----------------------------------------------
    async def after_create(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        if obj["shared"]:
            await self._set_wildcard(obj, True)

    async def prepare_update(
        self, ctx: RequestContext, obj: dict[str, Any], diff: dict[str, Any]
    ) -> None:
        if "shared" in diff:
            await self._set_wildcard(obj, diff["shared"])

    async def before_delete(self, ctx: RequestContext, obj: dict[str, Any]) -> None:
        await self._bus.call(
            DeleteObjectPolicies(object_type=self.object_type, object_id=obj["id"])
        )

    async def _set_wildcard(self, obj: dict[str, Any], present: bool) -> None:
        await self._bus.call(
            SetWildcardPolicy(
                object_type=self.object_type,
                object_id=obj["id"],
                project_id=obj["project_id"],
                action=ACCESS_SHARED,
                present=present,
                notify=False,
            )
        )

    # ---- RBAC hooks ------------------------------------------------------------------------
    async def _rbac_lookup(self, ctx: RequestContext, obj_id: str) -> dict[str, Any]:
        return await self.get_visible(ctx, obj_id)

    async def _rbac_bound(self, obj_id: str, action: str, losing: str) -> set[str]:
        obj = await self.lookup(obj_id)
        if obj is None:
            return set()
        # The owner counts too (Neutron's generic RBAC check): a wildcard that the owner's
        # own networks rely on stays. Networks differ (their owner always has access).
        return await self.bound_projects(obj) - {""}

    async def _rbac_check_target(self, obj_id: str, target: str) -> None:
        obj = await self.lookup(obj_id)
        if obj is not None:
            await self.check_share_target(obj, target)

    async def _rbac_changed(self, obj_id: str) -> None:
        obj = await self.lookup(obj_id)
        if obj is None:
            return
        wildcard = await has_policy(self._store, self.object_type, obj_id, ACCESS_SHARED, ("*",))
        await self.write(obj, changed(obj, {"shared": wildcard}))
        await self.after_rbac_change(obj)
