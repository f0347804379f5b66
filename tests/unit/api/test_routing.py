"""The segment-trie router: templates, parameters, literals first, .json and slashes."""

from __future__ import annotations

import pytest

from alcor.api.routing import Route, Router, methods_of


async def _handler(request, params):  # pragma: no cover - never called here
    raise AssertionError


def _router(*routes: tuple[str, str]) -> Router:
    router = Router()
    for method, template in routes:
        router.add(Route(method, template, _handler))
    return router


def test_resolve_returns_routes_by_method_and_parameters():
    """A path resolves to its methods and the parameter values of its template."""
    router = _router(
        ("GET", "/v2.0/networks"),
        ("POST", "/v2.0/networks"),
        ("GET", "/v2.0/networks/{id}"),
        ("PUT", "/v2.0/networks/{id}/tags/{tag}"),
    )
    routes, params = router.resolve("/v2.0/networks/abc/tags/web")
    assert list(routes) == ["PUT"] and params == {"id": "abc", "tag": "web"}
    routes, params = router.resolve("/v2.0/networks")
    assert methods_of(routes) == ["GET", "POST"] and params == {}
    assert router.resolve("/v2.0/networks/abc/tags") is None
    assert router.resolve("/v2.0/nosuch") is None
    assert router.resolve("/") is None


def test_literal_segments_win_over_parameters_with_backtracking():
    """/project/{p}/ports/bulk is the bulk route; /project/{p}/ports/{id} still resolves."""
    router = _router(
        ("PUT", "/project/{project_id}/ports/bulk"),
        ("GET", "/project/{project_id}/ports/{id}"),
        ("GET", "/project/{project_id}/ports/{id}/tags"),
    )
    routes, params = router.resolve("/project/p1/ports/bulk")
    assert list(routes) == ["PUT"] and params == {"project_id": "p1"}
    routes, params = router.resolve("/project/p1/ports/xyz")
    assert list(routes) == ["GET"] and params == {"project_id": "p1", "id": "xyz"}
    routes, params = router.resolve("/project/p1/ports/bulk/tags")
    assert list(routes) == ["GET"] and params == {"project_id": "p1", "id": "bulk"}


def test_json_suffix_only_on_v2_paths_and_trailing_slash_anywhere():
    """.json is stripped from /v2.0 paths only; a trailing slash is always optional."""
    router = _router(("GET", "/v2.0/networks/{id}"), ("GET", "/healthz"), ("GET", "/"))
    assert router.resolve("/v2.0/networks/abc.json")[1] == {"id": "abc"}
    assert router.resolve("/v2.0/networks/abc/")[1] == {"id": "abc"}
    assert router.resolve("/healthz/") is not None
    assert router.resolve("/healthz.json") is None
    assert router.resolve("/") is not None


def test_empty_segments_never_match_parameters():
    """A double slash does not produce an empty parameter."""
    router = _router(("GET", "/v2.0/networks/{id}"))
    assert router.resolve("/v2.0/networks//") is None


def test_duplicate_routes_and_conflicting_parameter_names_are_refused():
    """The same method and template twice, or two names for one position, is a bug."""
    router = _router(("GET", "/a/{id}"))
    with pytest.raises(ValueError, match="duplicate"):
        router.add(Route("GET", "/a/{id}", _handler))
    with pytest.raises(ValueError, match="conflicting"):
        router.add(Route("PUT", "/a/{name}", _handler))
