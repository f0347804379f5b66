"""The shared shape of resource managers: visibility, get, list and tag edits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from alcor import errors
from alcor.bus import Bus
from alcor.managers.common import (
    RequestContext,
    check_if_match,
    check_restricted,
    check_write,
    project_where,
    sorted_tags,
)
from alcor.managers.crud import GetCommand, ListCommand, UpdateCommand, ViewCommand
from alcor.resources import repo
from alcor.resources.base import Resource
from alcor.resources.repo import ListQuery, Page, Where
from alcor.store import Store


class ResourceManager:
    """Base of managers that own one resource table.

    Subclasses override `visible_where`/`is_visible` when more than the owning project
    may read (shared networks, ports on one's own network, ...).
    """

    resource: Resource
    name = ""
    requires: tuple[str, ...] = ("store", "bus")

    def __init__(self, bus: Bus, store: Store) -> None:
        self._bus = bus
        self._store = store

    async def stop(self) -> None:
        """Own nothing by default."""

    # ---- visibility ----------------------------------------------------------------
    def visible_where(self, ctx: RequestContext) -> list[Where]:
        """Return the SQL conditions that select what `ctx` may read."""
        where = project_where(ctx)
        return [where] if where is not None else []

    async def is_visible(self, obj: dict[str, Any], ctx: RequestContext) -> bool:
        """Return True when `ctx` may read `obj`."""
        return ctx.view_project is None or obj.get("project_id") == ctx.view_project

    async def lookup(self, obj_id: str) -> dict[str, Any] | None:
        """Return the stored object or None (no visibility check)."""
        return await repo.get(self._store, self.resource, obj_id)

    async def get_visible(self, ctx: RequestContext, obj_id: str) -> dict[str, Any]:
        """Return the object if `ctx` may read it, else raise its NotFound."""
        obj = await self.lookup(obj_id)
        if obj is None or not await self.is_visible(obj, ctx):
            raise self.resource.not_found(id=obj_id)
        return obj

    def check_write(self, ctx: RequestContext, obj: dict[str, Any], action: str) -> None:
        """Raise 403 unless `ctx` may change `obj` (default: its own project's)."""
        check_write(ctx, obj, action)

    async def writable(
        self,
        ctx: RequestContext,
        obj_id: str,
        action: str,
        if_match: int | None,
        changes: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Return the object `ctx` may change by `action`: 404, 403, then 412 (If-Match).

        With `changes`, the restricted-attribute policy applies before If-Match.
        """
        obj = await self.get_visible(ctx, obj_id)
        self.check_write(ctx, obj, action)
        if changes is not None:
            check_restricted(self.resource, action, changes, ctx, creating=False)
        check_if_match(obj, if_match)
        return obj

    def given_changes(self, obj: dict[str, Any], cmd: UpdateCommand) -> dict[str, Any]:
        """Return an update's attributes, `tags` resolved when it is a tag operation."""
        given = dict(cmd.changes)
        if cmd.tag_op is not None:
            given["tags"] = apply_tag_op(self.resource, obj, cmd.tag_op)
        return given

    # ---- reads ---------------------------------------------------------------------
    async def get(self, cmd: GetCommand) -> dict[str, Any]:
        """Handle Get<Resource>."""
        return (await self.present(cmd.ctx, [await self.get_visible(cmd.ctx, cmd.id)]))[0]

    async def list_visible(self, cmd: ListCommand) -> Page:
        """Handle List<Resources> (the query runs off the loop on SQLite: a list can be long)."""
        if cmd.query.marker is not None:
            await self.check_marker(cmd.ctx, cmd.query)
        conditions = self.visible_where(cmd.ctx) + self.query_where(cmd.ctx, cmd.query)
        page = await repo.list_page(self._store, self.resource, cmd.query, conditions)
        if self.presented(cmd.query.fields):
            page.items = await self.present(cmd.ctx, page.items)
        return page

    def presented(self, fields: list[str] | None) -> bool:
        """Return False when `fields` asks for none of what present() adds (default: it
        may add anything, so always present)."""
        return True

    lenient_marker = False

    async def check_marker(self, ctx: RequestContext, query: ListQuery) -> None:
        """404 for a marker the caller cannot see; lenient managers drop it instead."""
        try:
            await self.get_visible(ctx, query.marker or "")
        except errors.NotFound:
            if not self.lenient_marker:
                raise
            query.marker = None

    def query_where(self, ctx: RequestContext, query: ListQuery) -> list[Where]:
        """Translate the filters that need SQL of their own (default: the extra ones)."""
        return self.extra_where(query.extra)

    async def view(self, cmd: ViewCommand) -> list[dict[str, Any] | None]:
        """Handle View<Resources>: the objects `cmd.ctx` may read, decorated; None for others."""
        return await view_visible(cmd, lambda o: self.is_visible(o, cmd.ctx), self.decorate)

    def extra_where(self, extra: dict[str, list[str]]) -> list[Where]:
        """Translate resource-specific filters (e.g. fixed_ips) into SQL conditions."""
        return []

    async def decorate(self, objs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add computed attributes to objects read from the store (default: none)."""
        return list(objs)

    async def present(
        self, ctx: RequestContext, objs: Sequence[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Like decorate, for attributes that depend on the caller (RBAC's `shared`)."""
        return await self.decorate(objs)


async def view_visible(
    cmd: ViewCommand,
    visible: Callable[[dict[str, Any]], bool | Awaitable[bool]],
    decorate: Callable[[list[dict[str, Any]]], Awaitable[list[dict[str, Any]]]],
) -> list[dict[str, Any] | None]:
    """Return copies of the visible objects of `cmd`, decorated, and None for the others."""
    shown = []
    for obj in cmd.objs:
        seen = visible(obj)
        if not isinstance(seen, bool):
            seen = await seen
        shown.append(dict(obj) if seen else None)
    decorated = iter(await decorate([o for o in shown if o is not None]))
    return [next(decorated) if o is not None else None for o in shown]


def apply_tag_op(resource: Resource, obj: dict[str, Any], tag_op: tuple[str, Any]) -> list[str]:
    """Return the object's tags after a tag sub-resource operation."""
    op, arg = tag_op
    tags = list(obj.get("tags") or [])
    if op == "set":
        return sorted_tags(arg)
    if op == "clear":
        return []
    if op == "add":
        return sorted_tags([*tags, arg])
    if op == "remove":
        if arg not in tags:
            raise errors.TagNotFound(tag=arg, resource=resource.name, resource_id=obj["id"])
        return sorted_tags(t for t in tags if t != arg)
    raise ValueError(op)
