"""Attribute tables: the one source of truth for a resource's API and storage shape.

One table per resource drives body validation, policy marks, filters, sorting, `fields=`,
the SQLite column mapping and /openapi.json.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from alcor import errors
from alcor.resources.types import Bool, Int, Invalid, ListOf, Obj, String, Type, Uuid

MISSING: Any = object()

# Create/update marks (northbound spec §1.4.4 and the attribute tables' C/U columns):
# R required, Y anyone, A admin, S admin or service, W admin or the port network's owner,
# "-" not settable. Read marks: "all", "A" (admin), "S" (admin or service).
SETTABLE = frozenset({"R", "Y", "A", "S", "W"})


@dataclass(frozen=True)
class Attr:
    """One attribute of a resource."""

    name: str
    type: Type
    default: Any = MISSING
    create: str = "Y"
    update: str = "-"
    nullable: bool = False
    read: str = "all"
    column: str | None = ""  # "" = derived from name; None = not stored in the main table
    filter: bool | None = None  # None = filterable when scalar and stored
    sort: bool | None = None  # None = sortable when scalar and stored
    doc: str = ""
    served: Type | None = None  # how responses show it, when unlike its input type

    @property
    def column_name(self) -> str | None:
        """Return the SQLite column of this attribute, or None."""
        if self.column is None:
            return None
        return self.column or self.name.replace(":", "_").replace("-", "_")

    @property
    def codec(self) -> str:
        """Return how the column is stored: plain, `bool` (0/1) or `json`."""
        if isinstance(self.type, Bool):
            return "bool"
        if not self.type.is_scalar:
            return "json"
        return "plain"

    @property
    def filterable(self) -> bool:
        """Return True when `<attr>=<v>` list filters apply to it."""
        if self.filter is not None:
            return self.filter
        return self.type.is_scalar and self.column_name is not None

    @property
    def sortable(self) -> bool:
        """Return True when it may be a sort_key."""
        if self.sort is not None:
            return self.sort
        return self.type.is_scalar and self.column_name is not None


def std_attrs(
    *, name: bool = True, tags: bool = True, status: Type | None = None, revision: bool = True
) -> tuple[Attr, ...]:
    """Return the standard attributes (§1.6) in their usual order."""
    attrs = [
        Attr("id", Uuid(), create="Y", doc="UUID; generated when absent (Alcor extension)"),
        Attr("project_id", String(255), create="Y"),
        Attr("tenant_id", String(255), create="Y", column="project_id", filter=True, sort=True),
    ]
    if name:
        attrs.append(Attr("name", String(255), default="", update="Y"))
    attrs.append(Attr("description", String(255), default="", update="Y"))
    if status is not None:
        attrs.append(Attr("status", status, create="-"))
    if tags:
        attrs.append(
            Attr(
                "tags", ListOf(TAG, collapse_duplicates=True, max_items=50), default=[], update="Y"
            )
        )
    if revision:
        attrs.append(Attr("revision_number", Int(), create="-"))
    attrs.append(Attr("created_at", String(None), create="-"))
    attrs.append(Attr("updated_at", String(None), create="-"))
    return tuple(attrs)


TAG = String(60, min_len=1, pattern=r"[^,]+")


@dataclass(frozen=True, eq=False)
class Resource:
    """A REST resource: its keys, paths, table and attribute table."""

    name: str  # singular body key: "port"
    collection: str  # plural body key: "ports"
    path: str  # /v2.0 path segment: "ports", "security-groups"
    table: str
    attrs: tuple[Attr, ...]
    not_found: type[errors.NotFound]
    native_path: str | None = None  # /project/{p}/<native_path>
    native_ignored: frozenset[str] = frozenset()
    # Ignored on native paths only when empty (e.g. security_group_rules: []).
    native_ignored_empty: frozenset[str] = frozenset()
    # Extra list filters handled by the resource's repo (e.g. fixed_ips, tags).
    extra_filters: frozenset[str] = frozenset()
    has_tags: bool = True
    doc: str = ""
    by_name: Mapping[str, Attr] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {a.name: a for a in self.attrs})

    def attr(self, name: str) -> Attr | None:
        """Return the attribute called `name`, or None."""
        return self.by_name.get(name)

    @property
    def stored_attrs(self) -> tuple[Attr, ...]:
        """Return the attributes that have their own column (tenant_id aliases project_id)."""
        return tuple(a for a in self.attrs if a.column_name is not None and a.name != "tenant_id")


# ---- request body validation ----------------------------------------------------------


def bad(msg: str) -> errors.HTTPBadRequest:
    """Return an HTTPBadRequest with `msg`."""
    return errors.HTTPBadRequest(msg=msg)


def validate_create(resource: Resource, body: Any, *, native: bool = False) -> dict[str, Any]:
    """Validate one create item; return the converted attributes that were given.

    Order (northbound spec §1.3): unknown attributes, then each attribute in body order
    (not allowed in POST, type), then missing required ones.
    """
    item = _as_object(body, resource)
    item = _drop_native_ignored(resource, item, native)
    _reject_unknown(resource, item)
    out: dict[str, Any] = {}
    for key, value in item.items():
        attr = resource.by_name[key]
        if attr.create not in SETTABLE:
            raise bad(f"Attribute '{key}' not allowed in POST")
        out[key] = convert(attr, value)
    for attr in resource.attrs:
        if attr.create == "R" and attr.name not in out:
            raise bad(f"Failed to parse request. Required attribute '{attr.name}' not specified")
    _merge_project(out)
    return out


def validate_update(resource: Resource, body: Any, *, native: bool = False) -> dict[str, Any]:
    """Validate one update body; return the converted attributes that were given."""
    item = _as_object(body, resource)
    item = _drop_native_ignored(resource, item, native)
    _reject_unknown(resource, item)
    out: dict[str, Any] = {}
    for key, value in item.items():
        attr = resource.by_name[key]
        if attr.update not in SETTABLE:
            raise bad(f"Cannot update read-only attribute {key}")
        out[key] = convert(attr, value)
    return out


def convert(attr: Attr, value: Any) -> Any:
    """Convert one attribute value, raising the spec's 400 naming the attribute."""
    if value is None:
        if attr.nullable:
            return None
        raise bad(f"Invalid input for {attr.name}. Reason: '{value}' is not a valid value.")
    try:
        return attr.type.convert(value)
    except Invalid as exc:
        raise bad(f"Invalid input for {attr.name}. Reason: {_reason(exc)}.") from None


def _reason(exc: Invalid) -> str:
    text = str(exc)
    return text[:-1] if text.endswith(".") else text


def _as_object(body: Any, resource: Resource) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad(f"Invalid input for {resource.name}. Reason: '{body}' is not a dictionary.")
    return body


def _drop_native_ignored(resource: Resource, item: dict[str, Any], native: bool) -> dict[str, Any]:
    if not native:
        return item
    ignored = COMMON_NATIVE_IGNORED | resource.native_ignored
    return {
        k: v
        for k, v in item.items()
        if k not in ignored and not (k in resource.native_ignored_empty and v in ([], None))
    }


COMMON_NATIVE_IGNORED = frozenset(
    {"revision_number", "status", "created_at", "updated_at", "create_at", "update_at"}
)


def _reject_unknown(resource: Resource, item: Mapping[str, Any]) -> None:
    unknown = [k for k in item if k not in resource.by_name]
    if unknown:
        raise bad(f"Unrecognized attribute(s) '{', '.join(unknown)}'")


def _merge_project(out: dict[str, Any]) -> None:
    project, tenant = out.get("project_id"), out.get("tenant_id")
    if project is not None and tenant is not None and project != tenant:
        raise bad("'project_id' and 'tenant_id' do not match")
    if tenant is not None:
        out["project_id"] = tenant
    out.pop("tenant_id", None)


def defaults(resource: Resource, given: Mapping[str, Any]) -> dict[str, Any]:
    """Return `given` completed with every static default not already present."""
    out = dict(given)
    for name, value in _static_defaults(resource):
        if name not in out:
            out[name] = value() if callable(value) else _copy(value)
    return out


@functools.cache
def _static_defaults(resource: Resource) -> tuple[tuple[str, Any], ...]:
    return tuple(
        (a.name, a.default)
        for a in resource.attrs
        if a.default is not MISSING and a.name != "tenant_id"
    )


def _copy(value: Any) -> Any:
    if value.__class__ is list:
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


# ---- rendering ------------------------------------------------------------------------


def readable_names(resource: Resource, *, admin: bool, service: bool) -> tuple[str, ...]:
    """Return the attribute names a caller with these rights may read, in table order."""
    return tuple(
        a.name
        for a in resource.attrs
        if a.read == "all" or (a.read == "A" and admin) or (a.read == "S" and (admin or service))
    )


def make_renderer(names: Iterable[str]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """Return a function projecting a stored object onto `names` (tenant_id = project_id)."""
    keys = tuple(names)
    if "tenant_id" not in keys:
        return lambda obj: {key: obj[key] for key in keys if key in obj}
    at = keys.index("tenant_id")
    before, after = keys[:at], keys[at + 1 :]

    def render(obj: Mapping[str, Any]) -> dict[str, Any]:
        out = {key: obj[key] for key in before if key in obj}
        out["tenant_id"] = obj.get("project_id")
        for key in after:
            if key in obj:
                out[key] = obj[key]
        return out

    return render


OBJECT_LIST_ITEM = Obj()
__all__ = [
    "MISSING",
    "Attr",
    "Resource",
    "bad",
    "convert",
    "defaults",
    "make_renderer",
    "readable_names",
    "std_attrs",
    "validate_create",
    "validate_update",
]
