"""The route table: path templates to handlers, resolved by path segments.

Why not aiohttp's router: the API needs optional trailing slashes, a `.json` suffix on any
/v2.0 path, NeutronError 404/405 bodies with an `Allow` header, route templates as metric
labels, and the same table feeding /openapi.json. A segment trie does all of that in a
few lines and resolves a path in microseconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One (method, path template) and what serves it."""

    method: str
    template: str
    handler: Handler
    public: bool = False  # served without a caller (version documents, health, metrics)
    summary: str = ""
    alias_of: str | None = None  # native alias: the /v2.0 template it mirrors
    resource: str | None = None  # resource key, for OpenAPI schemas
    action: str | None = None  # list|create|show|update|delete|...
    body: dict[str, Any] | None = None  # JSON Schema of the request body (non-resource routes)


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    param: tuple[str, _Node] | None = None
    routes: dict[str, Route] = field(default_factory=dict)


class Router:
    """Resolve request paths to routes."""

    def __init__(self) -> None:
        self._root = _Node()
        self.routes: list[Route] = []

    def add(self, route: Route) -> None:
        """Add a route; the same method and template twice is a bug."""
        node = self._root
        for segment in _split(route.template):
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1]
                if node.param is None:
                    node.param = (name, _Node())
                elif node.param[0] != name:
                    raise ValueError(f"conflicting parameter names at {route.template}")
                node = node.param[1]
            else:
                node = node.literal.setdefault(segment, _Node())
        if route.method in node.routes:
            raise ValueError(f"duplicate route {route.method} {route.template}")
        node.routes[route.method] = route
        self.routes.append(route)

    def resolve(self, path: str) -> tuple[dict[str, Route], dict[str, str]] | None:
        """Return ({method: route}, path parameters) for a path, or None when unknown."""
        segments = _split(path)
        if segments and segments[0] == "v2.0" and segments[-1].endswith(".json"):
            segments[-1] = segments[-1][: -len(".json")]
        found = self._walk(self._root, segments, {})
        if found is None or not found[0].routes:
            return None
        return found[0].routes, found[1]

    def _walk(
        self, node: _Node, segments: list[str], params: dict[str, str]
    ) -> tuple[_Node, dict[str, str]] | None:
        for i, segment in enumerate(segments):
            child = node.literal.get(segment)
            if child is not None:
                found = self._walk(child, segments[i + 1 :], params)
                if found is not None and found[0].routes:
                    return found
            if node.param is None or not segment:
                return None
            name, child = node.param
            params = {**params, name: segment}
            node = child
        return node, params


def _split(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return [p for p in parts if p != ""] if path.strip("/") else []


def methods_of(routes: dict[str, Route]) -> list[str]:
    """Return the allowed methods of a resolved path, sorted."""
    return sorted(routes)


__all__ = ["Any", "Handler", "Route", "Router", "methods_of"]
