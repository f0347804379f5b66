"""`alcor serve`'s HTTP server: header timeouts, and a shutdown that drops no request.

Why not aiohttp's `web.run_app`: on SIGTERM it closes idle keep-alive connections at
once, so a client that had just sent its next request on one gets a connection reset
(measured on 16 busy clients: 8 to 11 lost requests). Here SIGTERM/SIGINT first stop
accepting connections, then every request already sent is served (with `Connection:
close`, so clients stop reusing the connection), open /watch streams end, and only when
nothing has been in flight for a moment are the remaining idle connections closed and
the components stopped.

aiohttp has no timeout for a request's headers, so a client that sends half a request
line would hold its connection forever: `_RequestHandler` answers it 408 after
`server.header_timeout_s` (the body's timeout is applied where the body is read).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from alcor.api import http, watch
from alcor.api.inflight import INFLIGHT
from alcor.api.web import HTTP_REQUESTS
from alcor.config import ServerConfig
from alcor.errors import RequestTimeout

_LOGGER = logging.getLogger(__name__)


def _timeout_response() -> bytes:
    exc = RequestTimeout()
    body = http.dumps({"NeutronError": {"type": exc.type, "message": exc.text, "detail": ""}})
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        f"Content-Type: {http.JSON_TYPE}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


class _RequestHandler(RequestHandler):
    """aiohttp's connection handler plus a deadline for each request's headers."""

    header_timeout_s = 30.0
    _header_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        between_requests = not self._messages and not self._request_in_progress
        super().data_received(data)
        if self._messages or self._request_in_progress:
            self._stop_header_timer()
        elif between_requests and self._header_timer is None:
            # The first bytes of a request: its headers must be complete in time.
            self._header_timer = self._loop.call_later(self.header_timeout_s, self._headers_late)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        # A request aiohttp could not parse (a NUL in a header, a broken request line): the
        # client's mistake, answered as NeutronError and logged without a traceback.
        _LOGGER.info("malformed HTTP request from %s: %s", request.remote, exc)
        HTTP_REQUESTS.labels("-", "unmatched", status).inc()
        error = {"type": "HTTPBadRequest", "message": "Malformed HTTP request.", "detail": ""}
        response = web.Response(
            status=status, body=http.dumps({"NeutronError": error}), content_type="application/json"
        )
        response.force_close()
        return response

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        if resp.status == 408:
            # A body that timed out is not waited for again ("lingering close"): close now.
            self._lingering_time = 0.0
        return await super().finish_response(request, resp, start_time)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        transport = self.transport
        if transport is None or transport.is_closing() or self._messages:
            return
        _LOGGER.info("closing a connection whose request headers did not arrive in time")
        HTTP_REQUESTS.labels("-", "unmatched", 408).inc()
        transport.write(_timeout_response())
        self.force_close()
        transport.close()


class _Runner(web.AppRunner):
    """An AppRunner whose connections use `_RequestHandler`."""

    def __init__(self, app: web.Application, header_timeout_s: float, **kwargs: object) -> None:
        super().__init__(app, **kwargs)  # type: ignore[arg-type]
        self._header_timeout_s = header_timeout_s

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp builds its RequestHandler in Server.__call__ and offers no factory hook.
        server.__class__ = _Server
        server.header_timeout_s = self._header_timeout_s  # type: ignore[attr-defined]
        return server


class _Server(web.Server):
    header_timeout_s = 30.0

    def __call__(self) -> RequestHandler:
        handler = _RequestHandler(self, loop=self._loop, **self._kwargs)
        handler.header_timeout_s = self.header_timeout_s
        return handler


async def serve(app: web.Application, config: ServerConfig, announce: Callable[[], None]) -> None:
    """Serve `app` until SIGTERM/SIGINT, then drain and stop (see the module docstring)."""
    runner = _Runner(
        app,
        config.header_timeout_s,
        access_log=None,
        shutdown_timeout=config.shutdown_timeout,
    )
    await runner.setup()
    try:
        listener = socket.create_server((config.host, config.port), backlog=1024)
        site = web.SockSite(runner, listener)
        # Handlers before the announcement: a SIGTERM right after it must drain, not kill.
        with _signalled() as stop:
            await site.start()
            announce()
            await stop.wait()
        _accept_queued(listener, runner)
        await site.stop()  # stop accepting; open connections keep being served
        inflight = app[INFLIGHT]
        inflight.draining = True
        app[watch.STOPPING].set()
        if not await inflight.drained(config.shutdown_timeout):
            _LOGGER.warning("%d requests still in flight at shutdown", inflight.count)
    finally:
        await runner.cleanup()


def _accept_queued(listener: socket.socket, runner: web.AppRunner) -> None:
    """Take over the connections the kernel has already queued: closing the listener would
    reset them, although their clients may have sent a request already."""
    loop = asyncio.get_running_loop()
    assert runner.server is not None
    while True:
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(False)
        task = loop.create_task(loop.connect_accepted_socket(runner.server, conn))
        _ADOPTED.add(task)
        task.add_done_callback(_ADOPTED.discard)


_ADOPTED: set[asyncio.Task[object]] = set()


@contextlib.contextmanager
def _signalled() -> Iterator[asyncio.Event]:
    """Yield an event set by SIGINT or SIGTERM while the block runs."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
