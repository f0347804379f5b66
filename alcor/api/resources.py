"""Generic REST handlers for attribute-table resources: list, create, show, update, delete, tags."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from alcor import errors
from alcor.api import http
from alcor.api.listing import links, parse_list_query
from alcor.api.routing import Route, Router
from alcor.bus import Bus
from alcor.config import Config
from alcor.managers.common import RequestContext
from alcor.resources.base import (
    Resource,
    make_renderer,
    readable_names,
    validate_create,
    validate_update,
)
from alcor.resources.types import Invalid, ListOf

Preprocess = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ResourceApi:
    """What the generic handlers need to serve one resource."""

    resource: Resource
    create: type | None  # None with the update and delete: a read-only resource (405)
    get: type
    list: type
    update: type | None
    delete: type | None
    v2_path: str | None = None  # "/v2.0/networks"; None = no /v2.0 form
    native_path: str | None = None  # "vpcs" under /project/{project_id}/
    root_path: str | None = None  # unscoped path such as "/nodes"
    bulk_keys: tuple[str, ...] = ()
    preprocess: Preprocess | None = None
    id_key: str = "id"
    # Adds computed, non-stored attributes to a shown object (e.g. a node's delivery state).
    show_extra: Callable[[Bus, dict[str, Any]], Any] | None = None
    # Sub-resources (/v2.0/qos/policies/{id}/bandwidth_limit_rules/{rule_id}): the path
    # parameter naming the parent (passed to every command as `parent`) and the item's own.
    parent_param: str | None = None
    item_param: str = "id"
    # Fixed keyword arguments of every command (a QoS rule's `rule_type`).
    command_args: tuple[tuple[str, Any], ...] = ()
    # Another base path whose /{id}/tags routes edit this resource's tags (QoS policies
    # are tagged at /v2.0/policies/{id}/tags).
    tags_path: str | None = None
    view: type | None = None  # View<Resources>: shows change-record objects (/v2.0/watch)
    # Attributes named differently on the native path: ((attribute, native name), ...).
    native_names: tuple[tuple[str, str], ...] = ()

    @property
    def read_only(self) -> bool:
        """Return True when only GET is served (writes answer 405)."""
        return self.create is None


@functools.lru_cache(maxsize=256)
def _renderer(
    resource: Resource, admin: bool, service: bool, fields: tuple[str, ...] | None
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    names = readable_names(resource, admin=admin, service=service)
    if fields is not None:
        wanted = set(fields)
        names = tuple(n for n in names if n in wanted)
    return make_renderer(names)


def renderer(
    resource: Resource, ctx: RequestContext, fields: list[str] | None = None
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Return the projection of stored objects onto what `ctx` may read (and `fields`)."""
    return _renderer(
        resource, ctx.is_admin, ctx.caller.is_service, tuple(fields) if fields is not None else None
    )


def fields_of(request: web.Request) -> list[str] | None:
    """Return the `fields=` of a request (repeatable or comma-separated), or None."""
    values = request.query.getall("fields", [])
    out = [f for v in values for f in v.split(",") if f]
    return out or None


class ResourceHandlers:
    """The handlers of one resource, bound to the bus and config."""

    def __init__(self, api: ResourceApi, bus: Bus, config: Config) -> None:
        self.api = api
        self.res = api.resource
        self._bus = bus
        self._config = config

    def _parent(self, params: dict[str, str]) -> dict[str, Any]:
        """Return the extra keywords of the commands: the parent of a sub-resource and the
        resource's fixed arguments (nothing for plain top-level resources)."""
        args = dict(self.api.command_args)
        if self.api.parent_param is not None:
            args["parent"] = params[self.api.parent_param]
        return args

    def _ctx(
        self,
        request: web.Request,
        params: dict[str, str],
        verb: str,
        body_project: str | None = None,
    ) -> RequestContext:
        return http.context(
            request,
            params,
            f"{verb}_{self.res.name}",
            self._config.auth.default_project,
            body_project,
        )

    async def list_collection(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """GET collection."""
        ctx = self._ctx(request, params, "get")
        readable = readable_names(self.res, admin=ctx.is_admin, service=ctx.caller.is_service)
        query = parse_list_query(
            request.query, self.res, readable, self._config.api.pagination_max_limit
        )
        page = await self._bus.call(self.api.list(ctx=ctx, query=query, **self._parent(params)))
        render = self._renderer(ctx, params, query.fields)
        body: dict[str, Any] = {self.res.collection: [render(o) for o in page.items]}
        body.update(
            links(
                request,
                self.res.collection,
                query,
                page.items,
                self._config.api.public_base_url,
                self.api.id_key,
            )
        )
        return http.json_response(body)

    def _renderer(
        self, ctx: RequestContext, params: dict[str, str], fields: list[str] | None
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """Return the projection of objects for this path (native names on native paths)."""
        names = dict(self.api.native_names) if "project_id" in params else {}
        if not names:
            return renderer(self.res, ctx, fields)
        attrs = {native: attr for attr, native in names.items()}
        render = renderer(self.res, ctx, [attrs.get(f, f) for f in fields] if fields else None)

        def native(obj: dict[str, Any]) -> dict[str, Any]:
            return {names.get(k, k): v for k, v in render(obj).items()}

        return native

    async def create(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """POST collection (single or bulk)."""
        body = await http.read_json(request)
        items, bulk = http.unwrap(
            body,
            self.res.name,
            self.res.collection,
            allow_bulk=True,
            extra_plural=self.api.bulk_keys,
        )
        return await self._create(request, params, items, bulk)

    async def create_bulk(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """POST …/bulk (native): the plural body only."""
        body = await http.read_json(request)
        if not (
            isinstance(body, dict)
            and len(body) == 1
            and next(iter(body)) in (self.res.collection, *self.api.bulk_keys)
        ):
            raise errors.HTTPBadRequest(
                msg=f"Unable to find '{self.res.collection}' in request body"
            )
        items = next(iter(body.values()))
        if not isinstance(items, list):
            raise errors.HTTPBadRequest(msg="Malformed request body")
        return await self._create(request, params, items, True)

    async def _create(
        self, request: web.Request, params: dict[str, str], items: list[Any], bulk: bool
    ) -> web.Response:
        if bulk and not 1 <= len(items) <= self._config.api.max_bulk_items:
            raise errors.HTTPBadRequest(
                msg=f"Bulk requests take 1 to {self._config.api.max_bulk_items} items"
            )
        native = "project_id" in params
        prepared = [self._preprocess(i) for i in items]
        valid = [validate_create(self.res, item, native=native) for item in prepared]
        ctx = self._ctx(
            request, params, "create", body_project=valid[0].get("project_id") if valid else None
        )
        created = await self._bus.call(
            _write(self.api.create)(ctx=ctx, items=valid, **self._parent(params))
        )
        render = renderer(self.res, ctx)
        if bulk:
            return http.json_response({self.res.collection: [render(o) for o in created]}, 201)
        return http.json_response({self.res.name: render(created[0])}, 201)

    def _preprocess(self, item: Any) -> Any:
        if self.api.preprocess is not None and isinstance(item, dict):
            return self.api.preprocess(item)
        return item

    async def show(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """GET one."""
        ctx = self._ctx(request, params, "get")
        obj = await self._bus.call(
            self.api.get(ctx=ctx, id=params[self.api.item_param], **self._parent(params))
        )
        body = self._renderer(ctx, params, fields_of(request))(obj)
        if self.api.show_extra is not None and fields_of(request) is None:
            body.update(await self.api.show_extra(self._bus, obj))
        return http.json_response({self.res.name: body})

    async def update(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """PUT one (partial)."""
        body = await http.read_json(request)
        items, _ = http.unwrap(body, self.res.name, None, allow_bulk=False)
        changes = validate_update(
            self.res, self._preprocess(items[0]), native="project_id" in params
        )
        revision = http.if_match(request)
        ctx = self._ctx(request, params, "update")
        obj = await self._bus.call(
            _write(self.api.update)(
                ctx=ctx,
                id=params[self.api.item_param],
                changes=changes,
                if_match=revision,
                **self._parent(params),
            )
        )
        return http.json_response({self.res.name: renderer(self.res, ctx)(obj)})

    async def delete(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """DELETE one."""
        revision = http.if_match(request)
        ctx = self._ctx(request, params, "delete")
        await self._bus.call(
            _write(self.api.delete)(
                ctx=ctx, id=params[self.api.item_param], if_match=revision, **self._parent(params)
            )
        )
        return http.empty()

    # ---- tags sub-resource (§1.10) -----------------------------------------------------
    async def get_tags(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """GET …/{id}/tags."""
        ctx = self._ctx(request, params, "get")
        obj = await self._bus.call(self.api.get(ctx=ctx, id=params["id"]))
        return http.json_response({"tags": obj.get("tags", [])})

    async def put_tags(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """PUT …/{id}/tags: replace all."""
        body = await http.read_json(request)
        if not isinstance(body, dict) or set(body) != {"tags"}:
            raise errors.HTTPBadRequest(msg="Unable to find 'tags' in request body")
        try:
            tags = self.res.by_name["tags"].type.convert(body["tags"])
        except Invalid as exc:
            raise errors.HTTPBadRequest(msg=f"Invalid input for tags. Reason: {exc}.") from None
        obj = await self._tag_op(request, params, ("set", tags))
        return http.json_response({"tags": obj["tags"]})

    async def delete_tags(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """DELETE …/{id}/tags: remove all."""
        await self._tag_op(request, params, ("clear", None))
        return http.empty()

    async def get_tag(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """GET …/{id}/tags/{tag}: 204 when present."""
        ctx = self._ctx(request, params, "get")
        obj = await self._bus.call(self.api.get(ctx=ctx, id=params["id"]))
        if params["tag"] not in obj.get("tags", []):
            raise errors.TagNotFound(
                tag=params["tag"], resource=self.res.name, resource_id=params["id"]
            )
        return http.empty()

    async def put_tag(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """PUT …/{id}/tags/{tag}: add (idempotent)."""
        tags = self.res.by_name["tags"].type
        try:
            (tags.item if isinstance(tags, ListOf) else tags).convert(params["tag"])
        except Invalid as exc:
            raise errors.HTTPBadRequest(msg=f"Invalid input for tags. Reason: {exc}.") from None
        await self._tag_op(request, params, ("add", params["tag"]))
        return http.empty(201)

    async def delete_tag(self, request: web.Request, params: dict[str, str]) -> web.Response:
        """DELETE …/{id}/tags/{tag}."""
        await self._tag_op(request, params, ("remove", params["tag"]))
        return http.empty()

    async def _tag_op(
        self, request: web.Request, params: dict[str, str], op: tuple[str, Any]
    ) -> dict[str, Any]:
        ctx = self._ctx(request, params, "update")
        return await self._bus.call(_write(self.api.update)(ctx=ctx, id=params["id"], tag_op=op))


def _write(command: type | None) -> type:
    """Return a write command type (no write route exists for a read-only resource)."""
    assert command is not None, "write route of a read-only resource"
    return command


def add_resource_routes(
    router: Router,
    api: ResourceApi,
    handlers: ResourceHandlers,
    native_tags_segment: str | None = None,
) -> None:
    """Register the /v2.0, native and root routes of one resource."""
    bases: list[tuple[str, str | None]] = []
    if api.v2_path:
        bases.append((api.v2_path, None))
    if api.native_path:
        bases.append((f"/project/{{project_id}}/{api.native_path}", api.v2_path))
    if api.root_path:
        bases.append((api.root_path, None))
    name = api.resource.name
    for base, alias in bases:
        item = base + "/{" + api.item_param + "}"

        def add(
            method: str,
            template: str,
            handler: Any,
            action: str,
            _alias: str | None = alias,
            _base: str = base,
        ) -> None:
            alias_template = None
            if _alias is not None:
                alias_template = template.replace(_base, _alias)
            router.add(
                Route(
                    method, template, handler, resource=name, action=action, alias_of=alias_template
                )
            )

        add("GET", base, handlers.list_collection, "list")
        add("GET", item, handlers.show, "show")
        if api.read_only:
            continue
        add("POST", base, handlers.create, "create")
        add("PUT", item, handlers.update, "update")
        add("DELETE", item, handlers.delete, "delete")
        if (api.native_path and base.startswith("/project/")) or api.root_path == base:
            add("POST", base + "/bulk", handlers.create_bulk, "create_bulk")
        if api.resource.has_tags:
            _add_tag_routes(add, item, handlers)
    if api.tags_path is not None:
        for method, template, handler, action in _tag_routes(api.tags_path + "/{id}", handlers):
            router.add(Route(method, template, handler, resource=name, action=action))


def _tag_routes(item: str, handlers: ResourceHandlers) -> list[tuple[str, str, Any, str]]:
    return [
        ("GET", item + "/tags", handlers.get_tags, "tags"),
        ("PUT", item + "/tags", handlers.put_tags, "tags"),
        ("DELETE", item + "/tags", handlers.delete_tags, "tags"),
        ("GET", item + "/tags/{tag}", handlers.get_tag, "tag"),
        ("PUT", item + "/tags/{tag}", handlers.put_tag, "tag"),
        ("DELETE", item + "/tags/{tag}", handlers.delete_tag, "tag"),
    ]


def _add_tag_routes(add: Any, item: str, handlers: ResourceHandlers) -> None:
    for method, template, handler, action in _tag_routes(item, handlers):
        add(method, template, handler, action)
