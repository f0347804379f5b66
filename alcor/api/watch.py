"""GET /v2.0/watch: the change record as a stream of newline-delimited JSON events.

Every committed resource change is a row of the change record (alcor/store/changes.py),
written in the same transaction as the change, so the stream is durable: a client that
keeps the `cursor` of the last event it handled resumes with exactly the events after it,
also after a restart of alcor, for as long as `store.change_retention_s` keeps them.

The cursor is opaque to clients and stable forever: the record's `seq` on SQLite; on
PostgreSQL a position in the record's commit windows (alcor/store/feed.py), which never
skips a change that commits late.
Objects are shown as GET shows them to the caller: the owning manager decides visibility
and computed attributes (View<Resources> commands), the API's renderer hides what the
caller may not read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from alcor import errors
from alcor.api import http
from alcor.api.inflight import INFLIGHT
from alcor.api.resources import renderer
from alcor.api.routing import Handler
from alcor.api.service import ALCOR
from alcor.managers.common import RequestContext
from alcor.resources.base import Resource
from alcor.store import Store, changes, feed

STOPPING = web.AppKey("watch_stopping", asyncio.Event)
CONTENT_TYPE = "application/x-ndjson; charset=UTF-8"
BATCH = 500


@dataclass(frozen=True)
class Watchable:
    """A resource the stream carries: its attribute table and its View command."""

    resource: Resource
    view: type


Cursor = tuple[int, tuple[int, int] | None]  # position, and the open window (PostgreSQL)


def parse_cursor(raw: str, dialect: str = "sqlite") -> Cursor:
    """Return the position of a cursor; 400 unless it is one from a watch event."""
    parsed = feed.Reader.parse_cursor(raw)
    if parsed is None or (dialect == "sqlite" and parsed[1] is not None):
        raise errors.HTTPBadRequest(msg=f"Invalid cursor {raw!r}: expected one from a watch event")
    return parsed


async def check_cursor(store: Store, cursor: Cursor) -> None:
    """Refuse a cursor from the future (400) or one whose successors were pruned (410)."""
    after = cursor[0]
    if after > await feed.horizon(store):
        raise errors.HTTPBadRequest(msg=f"Invalid cursor '{after}': no such change yet")
    if await _expired(store, after):
        raise errors.CursorExpired(cursor=after)


async def _expired(store: Store, after: int) -> bool:
    """Return True when changes after `after` were already pruned by retention (SQLite,
    whose seq has no gaps; on PostgreSQL retention keeps what durable consumers need)."""
    if store.dialect != "sqlite":
        return False
    oldest = await changes.oldest_seq(store)
    if oldest is None:
        return after < await feed.position(store)
    return oldest > after + 1


def parse_resources(values: Iterable[str], known: Mapping[str, Watchable]) -> set[str] | None:
    """Return the resource names of `resources=a,b` (singular or collection), or None = all."""
    by_key = {w.resource.collection: name for name, w in known.items()} | {n: n for n in known}
    wanted = {v.strip() for raw in values for v in raw.split(",") if v.strip()}
    if not wanted:
        return None
    unknown = sorted(wanted - set(by_key))
    if unknown:
        raise errors.HTTPBadRequest(
            msg=f"Unknown resource(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return {by_key[w] for w in wanted}


class WatchStream:
    """One client's stream: read the record after a cursor, show, write, wait, repeat."""

    def __init__(
        self,
        request: web.Request,
        ctx: RequestContext,
        watchables: Mapping[str, Watchable],
        resources: set[str] | None,
        heartbeat_s: float,
    ) -> None:
        alcor = request.app[ALCOR]
        self._request = request
        self._ctx = ctx
        self._store: Store = alcor.store
        self._bus = alcor.bus
        self._watchables = watchables
        self._resources = resources
        self._heartbeat_s = heartbeat_s
        self._stopping = request.app[STOPPING]

    async def run(self, cursor: Cursor) -> web.StreamResponse:
        """Stream events after `cursor` until the client leaves or the server stops."""
        response = web.StreamResponse(
            headers={
                "Content-Type": CONTENT_TYPE,
                "Cache-Control": "no-cache",
                # Sent with the stream's head: the dispatcher's copy would come too late.
                "X-Openstack-Request-Id": http.REQUEST_ID.get(),
            }
        )
        response.enable_chunked_encoding()
        # The stream's end may be the server's shutdown: a client must not then reuse the
        # connection for another request (it would find it closed).
        response.force_close()
        await response.prepare(self._request)
        with contextlib.suppress(ConnectionError), self._request.app[INFLIGHT].streaming():
            await self._pump(response, cursor)
            await response.write_eof()
        return response

    async def _pump(self, response: web.StreamResponse, cursor: Cursor) -> None:
        reader = feed.Reader(self._store, cursor[0], self._resources, BATCH, cursor[1])
        while not self._stopping.is_set():
            if await _expired(self._store, reader.position):
                # The client fell behind retention mid-stream: say so and end, never skip.
                expired = errors.CursorExpired(cursor=reader.position)
                error = {"type": "ERROR", "status": 410, "error": expired.type}
                await response.write(http.dumps({**error, "message": expired.text}) + b"\n")
                return
            batch = await reader.read()
            if batch:
                await response.write(b"".join(await self._lines(batch, reader)))
                continue
            if reader.in_window:
                continue
            if self._store.dialect == "sqlite":
                # Nothing of ours up to the newest seq: the heartbeat may skip ahead.
                reader = feed.Reader(
                    self._store,
                    max(reader.position, self._store.change_seq),
                    self._resources,
                    BATCH,
                )
            if not await self._wait(reader.position):
                heartbeat = {"type": "HEARTBEAT", "cursor": reader.cursor()}
                await response.write(http.dumps(heartbeat) + b"\n")

    async def _wait(self, after: int) -> bool:
        """Wait for a newer change or server shutdown; False after a quiet heartbeat period."""
        change = asyncio.ensure_future(self._store.wait_for_change(after, self._heartbeat_s))
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            done, _ = await asyncio.wait({change, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (change, stop):
                task.cancel()
        return stop in done or (change in done and change.result())

    async def _lines(self, batch: list[changes.Change], reader: feed.Reader) -> list[bytes]:
        """Render the visible events of a batch as JSON lines, in commit order."""
        shown = await self._show(batch)
        lines = []
        for change, obj in zip(batch, shown, strict=True):
            if obj is None:
                continue
            event = {
                "cursor": reader.cursor(change),
                "type": change.type,
                "resource": change.resource,
                "id": change.id,
                "revision_number": change.revision,
                "object": renderer(self._watchables[change.resource].resource, self._ctx)(obj),
            }
            lines.append(http.dumps(event) + b"\n")
        return lines

    async def _show(self, batch: list[changes.Change]) -> list[dict[str, Any] | None]:
        """Ask each resource's manager what the caller may see of its objects."""
        by_resource: dict[str, list[int]] = {}
        for index, change in enumerate(batch):
            if change.resource in self._watchables:
                by_resource.setdefault(change.resource, []).append(index)
        shown: list[dict[str, Any] | None] = [None] * len(batch)
        for name, indexes in by_resource.items():
            view = self._watchables[name].view
            objs = await self._bus.call(
                view(ctx=self._ctx, objs=[batch[i].object for i in indexes])
            )
            for index, obj in zip(indexes, objs, strict=True):
                shown[index] = obj
        return shown


def watch_handler(
    watchables: Mapping[str, Watchable], default_project: str, heartbeat_s: float
) -> Handler:
    """Return the GET /v2.0/watch handler."""

    async def handler(request: web.Request, params: dict[str, str]) -> web.StreamResponse:
        ctx = http.context(request, params, "get_watch", default_project)
        resources = parse_resources(request.query.getall("resources", []), watchables)
        store: Store = request.app[ALCOR].store
        since = request.query.get("since")
        cursor: Cursor
        if since is None or since == "":
            cursor = (await feed.position(store), None)
        else:
            cursor = parse_cursor(since, store.dialect)
            await check_cursor(store, cursor)
        stream = WatchStream(request, ctx, watchables, resources, heartbeat_s)
        return await stream.run(cursor)

    return handler
