"""The aiohttp application: one dispatcher over the route table, lifecycle, service docs."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import PayloadEncodingError
from prometheus_client import Counter, Histogram

from alcor import errors, lifecycle
from alcor.api import http, watch
from alcor.api.inflight import INFLIGHT, Inflight
from alcor.api.page import add_page_routes
from alcor.api.routes import build_router
from alcor.api.routing import Route, Router
from alcor.api.service import ALCOR
from alcor.app import Alcor
from alcor.managers.common import new_id
from alcor.store.db import with_retries

_LOGGER = logging.getLogger(__name__)
# nginx's "client closed request": counted for clients that left before their answer.
CLIENT_CLOSED = 499
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ROUTER = web.AppKey("router", Router)

HTTP_REQUESTS = Counter("alcor_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_SECONDS = Histogram(
    "alcor_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)


def make_web_app(alcor: Alcor) -> web.Application:
    """Return the aiohttp application serving `alcor` (components start with the app)."""
    app = web.Application(
        client_max_size=alcor.config.api.max_body_bytes, handler_args={"max_field_size": 65536}
    )
    app[ALCOR] = alcor
    app[ROUTER] = build_router(alcor)
    app[watch.STOPPING] = asyncio.Event()
    app[INFLIGHT] = inflight = Inflight()
    # Pushes give way to the API while clients queue on it (LoopPacer.port_window).
    alcor.southbound.pacer.api_backlog = inflight.backlog
    # A group commit waits a few turns for concurrent writers to join it.
    alcor.store.writers_to_come = inflight.writers_to_come
    app[http.BODY_TIMEOUT] = alcor.config.server.body_timeout_s
    add_page_routes(app)
    # [\s\S], not ".": a path with an encoded newline is still ours to answer (404 JSON).
    app.router.add_route("*", r"/{tail:[\s\S]*}", _dispatch)
    app.cleanup_ctx.append(_alcor_ctx)
    app.on_shutdown.append(_on_shutdown)
    return app


async def _alcor_ctx(app: web.Application) -> AsyncIterator[None]:
    alcor = app[ALCOR]
    async with lifecycle.started(alcor.components, alcor.config.server.shutdown_timeout):
        if alcor.on_started is not None:
            await alcor.on_started()
        alcor.state = "running"
        yield
        alcor.state = "stopping"


async def _on_shutdown(app: web.Application) -> None:
    app[ALCOR].state = "stopping"
    app[watch.STOPPING].set()  # watch streams end cleanly instead of holding the shutdown


async def _dispatch(request: web.Request) -> web.StreamResponse:
    """Resolve, authenticate, run the handler; map errors to NeutronError; count it."""
    request_id = f"req-{new_id()}"  # uuid4's randomness without a syscall per request
    http.REQUEST_ID.set(request_id)
    started = time.perf_counter()
    template = "unmatched"
    inflight = request.app[INFLIGHT]
    write = request.method not in _READ_METHODS
    inflight.begin(write)
    try:
        response, template = await _serve(request)
    except errors.AlcorError as exc:
        response = http.error_response(exc)
    except web.HTTPRequestEntityTooLarge:
        response = http.error_response(errors.HTTPRequestEntityTooLarge())
    except asyncio.CancelledError:  # the client left and aiohttp cancelled the handler
        HTTP_REQUESTS.labels(request.method, template, CLIENT_CLOSED).inc()
        raise
    except (ConnectionError, ClientPayloadError, PayloadEncodingError):
        # The client went away (or cut its body short): nothing to answer, not our error.
        _LOGGER.debug("client of %s %s disconnected", request.method, request.path)
        response = web.Response(status=CLIENT_CLOSED)
    except Exception:
        _LOGGER.exception(
            "request %s %s failed (request id %s)", request.method, request.path, request_id
        )
        response = http.internal_error(request_id)
    finally:
        inflight.end(write)
    if inflight.draining:
        response.force_close()  # tell keep-alive clients not to send more on this connection
    response.headers["X-Openstack-Request-Id"] = request_id
    HTTP_REQUESTS.labels(request.method, template, response.status).inc()
    HTTP_SECONDS.labels(request.method, template).observe(time.perf_counter() - started)
    return response


async def _serve(request: web.Request) -> tuple[web.StreamResponse, str]:
    app = request.app
    alcor = app[ALCOR]
    resolved = app[ROUTER].resolve(request.path)
    route: Route | None = None
    params: dict[str, str] = {}
    if resolved is not None:
        routes, params = resolved
        route = routes.get(request.method)
    if route is not None and route.public:
        return await route.handler(request, params), route.template
    if alcor.state != "running":
        raise errors.ServiceUnavailable()
    request[http.CALLER] = await alcor.authenticator.authenticate(request.headers)
    if resolved is None:
        raise errors.NotFound()
    if route is None:
        raise errors.HTTPMethodNotAllowed(sorted(resolved[0]), method=request.method)
    if "project_id" in params:
        # The native-path scope is checked before the body is read (§1.3 precedence:
        # 403 scope mismatch before 413 and 400).
        http.check_native_scope(
            request[http.CALLER],
            params["project_id"],
            http.route_action(request.method, route.resource, route.action),
        )
    # A request that lost a race with another process runs again (store/db.py).
    return await with_retries(lambda: route.handler(request, params)), route.template
