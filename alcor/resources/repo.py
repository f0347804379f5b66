"""Generic row access for resources described by attribute tables (async, either engine).

Objects are plain dicts keyed by API attribute names. Columns come from the attribute
table (`Attr.column_name`); JSON columns hold lists and objects (as text); booleans are 0/1.
Resources may also carry internal columns (not API attributes) passed as `extra`.

List values that lists are filtered by (tags, availability zones, an ACL's subnets) are
also rows of `list_values` (tbl, attr, value, id), written here with the object: filters
use that index, not JSON functions, and the JSON column stays the copy reads decode.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from alcor.resources.base import Resource
from alcor.store import changes as change_record
from alcor.store.db import RetryRequest, Store, marks


@dataclass
class ListQuery:
    """A parsed, validated list request."""

    filters: dict[str, list[Any]] = field(default_factory=dict)  # attr -> values (OR)
    extra: dict[str, list[str]] = field(default_factory=dict)  # resource-specific filters
    tags_all: list[str] = field(default_factory=list)
    tags_any: list[str] = field(default_factory=list)
    not_tags_all: list[str] = field(default_factory=list)
    not_tags_any: list[str] = field(default_factory=list)
    changed_since: str | None = None
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (attr, ascending)
    limit: int | None = None
    marker: str | None = None
    page_reverse: bool = False
    fields: list[str] | None = None


@dataclass
class Page:
    """One page of a list: items, and whether items exist beyond each end."""

    items: list[dict[str, Any]]
    has_more: bool  # more items after the page in the requested direction


@dataclass(frozen=True)
class Where:
    """An SQL condition on the main table (aliased `t`) with its parameters."""

    sql: str
    params: tuple[Any, ...] = ()


def all_of(conditions: Sequence[Where]) -> Where:
    """Combine conditions with AND (no condition: every row)."""
    if not conditions:
        return Where("TRUE")
    return Where(
        " AND ".join(f"({w.sql})" for w in conditions),
        tuple(p for w in conditions for p in w.params),
    )


def equals(column: str, value: Any) -> Where:
    """Select the rows whose `column` equals `value`."""
    return Where(f't."{column}" = ?', (value,))


class _Codec:
    """Row <-> dict conversion for one resource, computed once."""

    def __init__(
        self, resource: Resource, extra_columns: Sequence[str], only: frozenset[str] | None = None
    ) -> None:
        attrs = [a for a in resource.stored_attrs if only is None or a.name in only]
        extra = [c for c in extra_columns if only is None or c in only]
        # Stored attributes always have a column: the filter only narrows the type.
        self.columns = [col for a in attrs if (col := a.column_name) is not None] + extra
        self.names = [a.name for a in attrs] + extra
        self.column_of = {a.name: col for a in resource.attrs if (col := a.column_name)}
        json_extra = _JSON_EXTRA.get(resource.table, frozenset())
        self.codec_of = {a.name: a.codec for a in attrs} | {
            c: "json" for c in extra if c in json_extra
        }
        self.json_idx = [i for i, n in enumerate(self.names) if self.codec_of.get(n) == "json"]
        self.bool_idx = [i for i, a in enumerate(attrs) if a.codec == "bool"]
        self.select = ", ".join(f't."{c}"' for c in self.columns)
        # (api name, column) of the list attributes mirrored into list_values
        self.listed = [
            (a.name, col)
            for a in attrs
            if (col := a.column_name) is not None and is_listed(resource, a.name)
        ]

    def decode(self, row: Sequence[Any]) -> dict[str, Any]:
        values = list(row)
        for i in self.json_idx:
            if values[i] is not None:
                values[i] = orjson.loads(values[i])
        for i in self.bool_idx:
            if values[i] is not None:
                values[i] = bool(values[i])
        return dict(zip(self.names, values, strict=True))

    def encoder(self, name: str) -> Any:
        """Return the function that turns a value of `name` into its column value."""
        codec = self.codec_of.get(name, "plain")
        if codec == "json":
            return _json_column
        if codec == "bool":
            return _bool_column
        return None

    def encode(self, name: str, value: Any) -> Any:
        codec = self.codec_of.get(name, "plain")
        if value is None:
            return None
        if codec == "json":
            return orjson.dumps(value).decode()
        if codec == "bool":
            return 1 if value else 0
        return value


_EXTRA_COLUMNS: dict[str, tuple[str, ...]] = {}
ListFilter = Callable[[Sequence[Any]], "Where"]
_LIST_FILTERS: dict[tuple[str, str], ListFilter] = {}


def register_list_filter(resource: Resource, name: str, where: ListFilter) -> None:
    """Answer `<name>=v` filters of a list attribute from another table (`where(values)`)."""
    _LIST_FILTERS[(resource.table, name)] = where
    codec.cache_clear()
    partial_codec.cache_clear()


def is_listed(resource: Resource, name: str) -> bool:
    """Return True when the list attribute `name` is mirrored into `list_values`."""
    attr = resource.by_name.get(name)
    if attr is None or attr.codec != "json" or attr.column_name is None:
        return False
    if name == "tags":
        return resource.has_tags
    return attr.filterable and (resource.table, name) not in _LIST_FILTERS


_JSON_EXTRA: dict[str, frozenset[str]] = {}


def register_extra_columns(
    resource: Resource, columns: Iterable[str], json_columns: Iterable[str] = ()
) -> None:
    """Declare internal columns of `resource`'s table that objects carry too.

    `json_columns` (a subset of `columns`) hold lists or objects, stored as JSON text.
    """
    _EXTRA_COLUMNS[resource.table] = tuple(columns)
    _JSON_EXTRA[resource.table] = frozenset(json_columns)
    codec.cache_clear()
    partial_codec.cache_clear()


@functools.cache
def codec(resource: Resource) -> _Codec:
    """Return the cached codec of `resource`."""
    return _Codec(resource, _EXTRA_COLUMNS.get(resource.table, ()))


@functools.cache
def partial_codec(resource: Resource, names: tuple[str, ...]) -> _Codec:
    """Return a cached codec that reads only `names` (attributes or extra columns)."""
    return _Codec(resource, _EXTRA_COLUMNS.get(resource.table, ()), frozenset(names))


async def insert(db: Store, resource: Resource, obj: Mapping[str, Any]) -> None:
    """Insert one object (API names plus any extra columns) and record the change."""
    c = codec(resource)
    names = [n for n in c.names if n in obj]
    cols = ", ".join(f'"{c.column_of.get(n, n)}"' for n in names)
    await db.execute(
        f"INSERT INTO {resource.table} ({cols}) VALUES ({marks(names)})",
        [c.encode(n, obj[n]) for n in names],
    )
    if c.listed:
        await _add_list_values(db, resource, [obj])
    await change_record.record(db, resource.name, obj, "CREATED", c.names[0])


async def insert_many(db: Store, resource: Resource, objs: Sequence[Mapping[str, Any]]) -> None:
    """Insert many objects that all carry the same keys (bulk paths)."""
    if not objs:
        return
    c = codec(resource)
    names = [n for n in c.names if n in objs[0]]
    cols = ", ".join(f'"{c.column_of.get(n, n)}"' for n in names)
    plan = [(n, c.encoder(n)) for n in names]
    await db.executemany(
        f"INSERT INTO {resource.table} ({cols}) VALUES ({marks(names)})",
        [[o[n] if f is None else f(o[n]) for n, f in plan] for o in objs],
    )
    if c.listed:
        await _add_list_values(db, resource, objs)
    await change_record.record_many(db, resource.name, objs, "CREATED", c.names[0])


async def _add_list_values(
    db: Store, resource: Resource, objs: Iterable[Mapping[str, Any]], only: str | None = None
) -> None:
    c = codec(resource)
    key = c.names[0]
    rows = [
        (resource.table, column, value, obj[key])
        for obj in objs
        for name, column in c.listed
        if only in (None, name)
        for value in dict.fromkeys(obj.get(name) or ())
    ]
    if rows:
        await db.executemany(
            "INSERT INTO list_values (tbl, attr, value, id) VALUES (?, ?, ?, ?)", rows
        )


async def get(db: Store, resource: Resource, obj_id: str) -> dict[str, Any] | None:
    """Return the object with `obj_id`, or None."""
    c = codec(resource)
    key = c.columns[0]
    row = await db.fetchone(
        f'SELECT {c.select} FROM {resource.table} t WHERE t."{key}" = ?', [obj_id]
    )
    return c.decode(row) if row is not None else None


async def get_many(db: Store, resource: Resource, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return {id: object} for the ids that exist."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, dict[str, Any]] = {}
    c = codec(resource)
    key = c.columns[0]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in await db.fetch(
            f'SELECT {c.select} FROM {resource.table} t WHERE t."{key}" IN ({marks(chunk)})', chunk
        ):
            obj = c.decode(row)
            out[obj[c.names[0]]] = obj
    return out


async def find(
    db: Store,
    resource: Resource,
    where: Where,
    order: str = "",
    names: tuple[str, ...] | None = None,
    long: bool = False,
) -> list[dict[str, Any]]:
    """Return the objects matching `where` (trusted SQL on alias t), only `names` if given.

    `long`: the query may take long (a whole table), keep it off the event loop.
    """
    c = codec(resource) if names is None else partial_codec(resource, names)
    sql = f"SELECT {c.select} FROM {resource.table} t WHERE {where.sql}"
    if order:
        sql += f" ORDER BY {order}"
    return [c.decode(row) for row in await db.fetch(sql, where.params, long=long)]


async def find_grouped(
    db: Store,
    resource: Resource,
    column: str,
    keys: Sequence[str],
    order: str = "",
) -> dict[str, list[dict[str, Any]]]:
    """Return {key: objects whose `column` is key} for every key, each list in `order`.

    One query per 500 keys (a group's rules, an ACL's rules, ...).
    """
    grouped: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    for start in range(0, len(keys), 500):
        chunk = tuple(keys[start : start + 500])
        for obj in await find(
            db, resource, Where(f't."{column}" IN ({marks(chunk)})', chunk), order
        ):
            grouped[obj[column]].append(obj)
    return grouped


async def update(db: Store, resource: Resource, obj_id: str, changes: Mapping[str, Any]) -> None:
    """Write `changes` (API names or extra columns) to the object and record the change.

    A write that sets `revision_number` is a compare-and-swap on the revision it follows
    (the revision rule: last + 1): if another process changed the row since it was read,
    nothing is written and the request runs again (RetryRequest), so no update is lost.
    """
    if not changes:
        return
    c = codec(resource)
    sets = ", ".join(f'"{c.column_of.get(n, n)}" = ?' for n in changes)
    params = [c.encode(n, v) for n, v in changes.items()]
    sql = f'UPDATE {resource.table} SET {sets} WHERE "{c.columns[0]}" = ?'
    params.append(obj_id)
    revision = changes.get("revision_number")
    if revision is not None:
        sql += " AND revision_number = ?"
        params.append(revision - 1)
    if not await db.execute(sql, params) and revision is not None:
        raise RetryRequest(f"{resource.name} {obj_id} changed meanwhile (revision {revision - 1})")
    for name, column in c.listed:
        if name in changes:
            await db.execute(
                "DELETE FROM list_values WHERE tbl = ? AND id = ? AND attr = ?",
                [resource.table, obj_id, column],
            )
            await _add_list_values(db, resource, [{c.names[0]: obj_id, **changes}], only=name)
    await record_update(db, resource, obj_id)


async def record_update(db: Store, resource: Resource, obj_id: str) -> None:
    """Record the object's current row as an UPDATED change (for writes made in raw SQL)."""
    obj = await get(db, resource, obj_id)
    if obj is not None:
        await change_record.record(db, resource.name, obj, "UPDATED", codec(resource).names[0])


async def record_updates(db: Store, resource: Resource, obj_ids: Sequence[str]) -> None:
    """Record the current rows of many objects as UPDATED changes (after a bulk raw UPDATE)."""
    objs = await get_many(db, resource, obj_ids)
    if objs:
        await change_record.record_many(
            db, resource.name, list(objs.values()), "UPDATED", codec(resource).names[0]
        )


async def set_status(db: Store, resource: Resource, status: str, where: Where) -> list[str]:
    """Set `status` on the rows matching `where` that differ; record each change.

    Return the ids of the rows that changed. Status is server-maintained: no revision bump.
    """
    key = codec(resource).columns[0]
    changed_ids = [
        row[0]
        for row in await db.fetch(
            f"UPDATE {resource.table} AS t SET status = ? WHERE ({where.sql}) AND t.status != ? "
            f'RETURNING "{key}"',
            [status, *where.params, status],
        )
    ]
    for obj_id in changed_ids:
        await record_update(db, resource, obj_id)
    return changed_ids


async def delete(db: Store, resource: Resource, obj_id: str) -> None:
    """Delete the object and record the change (its last state, at revision last + 1)."""
    obj = await get(db, resource, obj_id)
    if obj is None:
        return
    c = codec(resource)
    key = c.columns[0]
    await db.execute(f'DELETE FROM {resource.table} WHERE "{key}" = ?', [obj_id])
    if any(obj.get(name) for name, _ in c.listed):
        await db.execute(
            "DELETE FROM list_values WHERE tbl = ? AND id = ?", [resource.table, obj_id]
        )
    await change_record.record(db, resource.name, obj, "DELETED", c.names[0])


def usage_counter(
    resource: Resource, column: str = "project_id"
) -> Callable[[Store, str], Awaitable[int]]:
    """Return the quota usage counter of `resource`: its rows owned by a project."""

    async def count_owned(db: Store, project_id: str) -> int:
        return await count(db, resource, Where(f't."{column}" = ?', (project_id,)))

    return count_owned


async def delete_where(db: Store, resource: Resource, where: Where) -> int:
    """Delete the objects matching `where` (on alias t), recording each change; return
    how many went."""
    gone = await find(db, resource, where)
    c = codec(resource)
    key = c.columns[0]
    for obj in gone:
        await db.execute(f'DELETE FROM {resource.table} WHERE "{key}" = ?', [obj[key]])
    if c.listed and gone:
        await db.executemany(
            "DELETE FROM list_values WHERE tbl = ? AND id = ?",
            [(resource.table, obj[key]) for obj in gone],
        )
    await change_record.record_many(db, resource.name, gone, "DELETED", c.names[0])
    return len(gone)


async def count(db: Store, resource: Resource, where: Where) -> int:
    """Count rows matching `where`."""
    return int(
        await db.fetchval(
            f"SELECT COUNT(*) FROM {resource.table} t WHERE {where.sql}", where.params
        )
    )


# ---- lists ------------------------------------------------------------------------------


async def list_page(
    db: Store, resource: Resource, query: ListQuery, conditions: Sequence[Where]
) -> Page:
    """Run a filtered, sorted, keyset-paginated list. The marker must exist (checked by caller).

    NULLs sort first ascending and last descending on both engines (SQLite's order).
    """
    c = codec(resource)
    where, params = _where(resource, query, conditions)
    sort = _sort_keys(resource, query)
    if query.page_reverse:
        sort = [(col, not asc) for col, asc in sort]
    if query.marker is not None:
        marker_sql, marker_params = _after_marker(resource, sort, query.marker)
        where.append(marker_sql)
        params.extend(marker_params)
    sql = f"SELECT {c.select} FROM {resource.table} t"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY " + ", ".join(
        f't."{col}" {"ASC NULLS FIRST" if asc else "DESC NULLS LAST"}' for col, asc in sort
    )
    limit = query.limit or 0
    if limit:
        sql += f" LIMIT {int(limit) + 1}"
    rows = await db.fetch(sql, params, long=True)
    has_more = bool(limit) and len(rows) > limit
    if has_more:
        rows = rows[:limit]
    items = [c.decode(row) for row in rows]
    if query.page_reverse:
        items.reverse()
    return Page(items=items, has_more=has_more)


def _sort_keys(resource: Resource, query: ListQuery) -> list[tuple[str, bool]]:
    c = codec(resource)
    keys = [(c.column_of[name], asc) for name, asc in query.sort]
    id_col = c.columns[0]
    if all(col != id_col for col, _ in keys):
        keys.append((id_col, True))
    return keys


def _after_marker(
    resource: Resource, sort: Sequence[tuple[str, bool]], marker: str
) -> tuple[str, list[Any]]:
    """Return the keyset condition "comes after the marker row in this order".

    NULL sorts before every value (NULLS FIRST ascending), so NULL-aware comparisons are
    spelled out.
    """
    id_col = codec(resource).columns[0]
    cols = ", ".join(f'"{col}"' for col, _ in sort)
    sub = f'(SELECT {cols} FROM {resource.table} WHERE "{id_col}" = ?)'
    ors = []
    params: list[Any] = []
    for i, (col, asc) in enumerate(sort):
        ands = [f't."{prev}" IS NOT DISTINCT FROM m."{prev}"' for prev, _ in sort[:i]]
        if asc:
            ands.append(f'((m."{col}" IS NULL AND t."{col}" IS NOT NULL) OR t."{col}" > m."{col}")')
        else:
            ands.append(f'(m."{col}" IS NOT NULL AND (t."{col}" < m."{col}" OR t."{col}" IS NULL))')
        ors.append("(" + " AND ".join(ands) + ")")
    sql = f"EXISTS (SELECT 1 FROM {sub} m WHERE " + " OR ".join(ors) + ")"
    params.append(marker)
    return sql, params


def _where(
    resource: Resource, query: ListQuery, conditions: Sequence[Where]
) -> tuple[list[str], list[Any]]:
    c = codec(resource)
    where: list[str] = []
    params: list[Any] = []
    for cond in conditions:
        where.append(f"({cond.sql})")
        params.extend(cond.params)
    for name, values in query.filters.items():
        attr = resource.by_name[name]
        col = c.column_of[name]
        custom = _LIST_FILTERS.get((resource.table, name))
        if custom is not None:
            cond = custom(values)
            where.append(f"({cond.sql})")
            params.extend(cond.params)
        elif attr.codec == "json":
            where.append(_listed_sql(resource, col, len(values)))
            params.extend(values)
        else:
            encoded = [c.encode(name, v) for v in values]
            nulls = [v for v in encoded if v is None]
            # An integer SQLite cannot hold matches no stored value (and would not bind).
            others = [v for v in encoded if v is not None and not _out_of_range(v)]
            parts = []
            if others:
                parts.append(f't."{col}" IN ({", ".join("?" for _ in others)})')
                params.extend(others)
            if nulls:
                parts.append(f't."{col}" IS NULL')
            where.append("(" + " OR ".join(parts) + ")" if parts else "FALSE")
    tag_sql = _listed_sql(resource, "tags", 1)
    for tag in query.tags_all:
        where.append(tag_sql)
        params.append(tag)
    if query.tags_any:
        where.append("(" + " OR ".join(tag_sql for _ in query.tags_any) + ")")
        params.extend(query.tags_any)
    if query.not_tags_all:
        where.append("NOT (" + " AND ".join(tag_sql for _ in query.not_tags_all) + ")")
        params.extend(query.not_tags_all)
    if query.not_tags_any:
        where.append("NOT (" + " OR ".join(tag_sql for _ in query.not_tags_any) + ")")
        params.extend(query.not_tags_any)
    if query.changed_since is not None:
        where.append('t."updated_at" >= ?')
        params.append(query.changed_since)
    return where, params


def _listed_sql(resource: Resource, column: str, count: int) -> str:
    """Select the objects holding one of `count` values in the list column."""
    values = ", ".join(["?"] * count)
    key = codec(resource).columns[0]
    return (
        f"t.\"{key}\" IN (SELECT id FROM list_values WHERE tbl = '{resource.table}' "
        f"AND attr = '{column}' AND value IN ({values}))"
    )


def _out_of_range(value: Any) -> bool:
    return isinstance(value, int) and not -(2**63) <= value < 2**63


def _json_column(value: Any) -> Any:
    return None if value is None else orjson.dumps(value).decode()


def _bool_column(value: Any) -> Any:
    return None if value is None else (1 if value else 0)


def dumps(value: Any) -> str:
    """Encode a JSON column value."""
    return orjson.dumps(value).decode()
