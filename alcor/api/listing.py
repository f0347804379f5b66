"""List query parsing (filters, fields, sorting, pagination) and pagination links."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiMapping

from alcor import errors
from alcor.resources.base import Resource
from alcor.resources.repo import ListQuery
from alcor.resources.types import Bool, Invalid, ListOf

SPECIAL = {
    "fields",
    "sort_key",
    "sort_dir",
    "limit",
    "marker",
    "page_reverse",
    "tags",
    "tags-any",
    "not-tags",
    "not-tags-any",
    "changed_since",
}
MAX_LIMIT = 2**62
ALIASES: dict[str, dict[str, str]] = {
    "host_info": {"name": "node_name", "id": "node_id"},
    "gateway": {"vpc_id": "network_id"},  # the native path's name (northbound §14)
}


def bad(msg: str) -> errors.HTTPBadRequest:
    """Return a 400 HTTPBadRequest."""
    return errors.HTTPBadRequest(msg=msg)


def parse_list_query(
    params: MultiMapping[str],
    resource: Resource,
    readable: Iterable[str],
    max_limit: int = -1,
    ignore: Iterable[str] = (),
) -> ListQuery:
    """Parse and validate list parameters against the attribute table and read rights."""
    can_read = set(readable)
    skip = set(ignore)
    query = ListQuery()
    aliases = ALIASES.get(resource.name, {})
    for key in params:
        if key in SPECIAL or key in skip or key in query.filters or key in query.extra:
            continue
        values = params.getall(key)
        name = aliases.get(key, key)
        if name in resource.extra_filters:
            _extra_filter(query, name, values)
            continue
        attr = resource.attr(name)
        if attr is None or not attr.filterable or name not in can_read:
            raise bad(f"'{key}' is an invalid attribute for filtering")
        query.filters[name] = [_filter_value(attr, v) for v in values]
    _parse_tags(query, params)
    query.fields = _fields(params)
    query.sort = _sort(params, resource, can_read)
    query.limit = _limit(params, max_limit)
    query.marker = params.get("marker") or None
    query.page_reverse = _bool_param(params, "page_reverse")
    if "changed_since" in params:
        query.changed_since = _timestamp(params["changed_since"])
    return query


def _filter_value(attr: Any, raw: str) -> Any:
    typ = attr.type.item if isinstance(attr.type, ListOf) else attr.type
    if raw == "" and not isinstance(typ, Bool):
        return ""
    try:
        return typ.convert(raw)
    except Invalid as exc:
        if attr.name == "id":
            # An id that is no UUID matches nothing (Tempest lists metering labels by id=33).
            return raw
        raise bad(f"Invalid input for {attr.name}. Reason: {exc}.") from None
    except errors.AlcorError:
        raise bad(f"Invalid input for {attr.name}. Reason: '{raw}' is not valid.") from None


def _extra_filter(query: ListQuery, name: str, values: list[str]) -> None:
    """fixed_ips=ip_address=X style filters: key=value pairs inside the value.

    Any other extra filter (e.g. a subnet's `shared`) is passed on as given, for the
    resource's manager to interpret.
    """
    if name != "fixed_ips":
        query.extra.setdefault(name, []).extend(values)
        return
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or key not in ("ip_address", "subnet_id", "ip_address_substr"):
            raise bad(f"'{name}' is an invalid attribute for filtering")
        query.extra.setdefault(key, []).append(rest)


def _parse_tags(query: ListQuery, params: MultiMapping[str]) -> None:
    for key, target in (
        ("tags", query.tags_all),
        ("tags-any", query.tags_any),
        ("not-tags", query.not_tags_all),
        ("not-tags-any", query.not_tags_any),
    ):
        for value in params.getall(key, []):
            target.extend(t for t in value.split(",") if t)


def _fields(params: MultiMapping[str]) -> list[str] | None:
    values = params.getall("fields", [])
    if not values:
        return None
    out: list[str] = []
    for value in values:
        out.extend(f for f in value.split(",") if f)
    return out or None


def _sort(
    params: MultiMapping[str], resource: Resource, readable: set[str]
) -> list[tuple[str, bool]]:
    keys = params.getall("sort_key", [])
    dirs = params.getall("sort_dir", [])
    if dirs and len(dirs) != len(keys):
        raise bad("The number of sort_keys and sort_dirs must be same")
    out = []
    for i, key in enumerate(keys):
        attr = resource.attr(key)
        if attr is None or not attr.sortable or key not in readable:
            raise bad(f"{key} is an invalid attribute for sort_keys")
        direction = dirs[i] if dirs else "asc"
        if direction not in ("asc", "desc"):
            raise bad(
                f"{direction} is an invalid value for sort_dirs, valid values are 'asc' and 'desc'"
            )
        out.append(("project_id" if key == "tenant_id" else key, direction == "asc"))
    return out


def _limit(params: MultiMapping[str], max_limit: int) -> int | None:
    raw = params.get("limit")
    limit = 0
    if raw is not None:
        try:
            limit = int(raw)
        except ValueError:
            raise bad(f"Invalid input for limit. Reason: '{raw}' is not an integer.") from None
        if limit < 0:
            raise bad(f"Invalid input for limit. Reason: '{raw}' should be non-negative.")
    if max_limit > 0 and (limit == 0 or limit > max_limit):
        limit = max_limit
    # Beyond any possible row count a limit changes nothing; keep it bindable by SQLite.
    return min(limit, MAX_LIMIT) or None


def _bool_param(params: MultiMapping[str], key: str) -> bool:
    raw = params.get(key)
    if raw is None:
        return False
    try:
        return Bool().convert(raw)
    except Invalid:
        raise bad(
            f"Invalid input for {key}. Reason: '{raw}' cannot be converted to boolean."
        ) from None


def _timestamp(raw: str) -> str:
    import datetime

    try:
        value = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise bad(
            f"Invalid input for changed_since. Reason: '{raw}' is not a valid timestamp."
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def links(
    request: web.Request,
    collection: str,
    query: ListQuery,
    items: list[dict[str, Any]],
    base_url: str,
    id_key: str = "id",
) -> dict[str, list[dict[str, str]]]:
    """Return {"<collection>_links": [...]} when a limit applied, else {}.

    As Neutron (neutron-tempest-plugin walks the links): `next` unless a forward page is
    short, `previous` unless a reverse page is short. So the last full page still has a
    `next` (to an empty page), and an empty page's `previous` has no marker (the last page,
    backwards). Deviation from the spec, where `next` is present iff items follow the page.
    """
    if not query.limit:
        return {}
    short = len(items) < query.limit
    out = []
    params = [(k, v) for k, v in request.query.items() if k not in ("marker", "page_reverse")]
    root = base_url.rstrip("/") if base_url else f"{request.scheme}://{request.host}"
    path = root + request.path
    if not (short and not query.page_reverse):
        marker = [("marker", items[-1][id_key])] if items else []
        out.append({"rel": "next", "href": f"{path}?{urlencode([*params, *marker])}"})
    if not (short and query.page_reverse):
        marker = [("marker", items[0][id_key])] if items else []
        out.append(
            {
                "rel": "previous",
                "href": f"{path}?{urlencode([*params, *marker, ('page_reverse', 'True')])}",
            }
        )
    return {f"{collection}_links": out}
