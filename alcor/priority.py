"""An event loop that runs the API's callbacks before background work (the pushes).

One event loop serves the API and frames the pushes to the hosts. asyncio runs ready
callbacks first in, first out, so each step of a request (its handler, its commit, its
response) could wait behind push work queued a moment before: with 100 agents being
programmed at 100 port creates/s, background callbacks ran for 0.9 ms inside a median
request, and the API's p50 was 30% above its value without agents (issue 18).

Callbacks scheduled from a *background* context (`background()`: the southbound engine
starts its tasks in one, and whatever they create inherits it) wait in a queue of their
own. A pump callback in the ordinary ready queue runs them while no foreground callback
is ready, checking after each. Background never starves: once it has waited through
`defer_s` of foreground work it runs for as long as it waited, at most MAX_SLICE_S (so
when both are busy each gets about half of the loop), and foreground waits that long.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_BACKGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "alcor_background", default=False
)

# While nothing else is ready, background runs this long (seconds) before the loop polls
# its sockets again: a request arriving meanwhile waits at most that.
MIN_SLICE_S = 0.0005
# A turn background takes after waiting lasts as long as it waited, at most this (what
# is ready meanwhile waits that long).
MAX_SLICE_S = 0.002


@contextlib.contextmanager
def background() -> Iterator[None]:
    """Mark the tasks, callbacks and sockets created inside as background work."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def create_background_task(
    coro: Coroutine[Any, Any, T], *, name: str | None = None
) -> asyncio.Task[T]:
    """Create a task that runs as background work, whoever creates it (an API request)."""
    with background():
        return asyncio.create_task(coro, name=name)


def is_background() -> bool:
    """Tell whether the current context is background work."""
    return _BACKGROUND.get()


class PriorityEventLoop(asyncio.SelectorEventLoop):
    """asyncio's selector loop with background callbacks queued behind the foreground."""

    def __init__(self, defer_s: float = 0.001) -> None:
        super().__init__()
        self.defer_s = defer_s
        self._background: collections.deque[asyncio.Handle] = collections.deque()
        self._pump = asyncio.Handle(self._run_background, (), self, contextvars.Context())
        self._pump_queued = False
        self._waiting_since = 0.0  # when background last ran, or found work waiting

    def call_soon(  # type: ignore[override]  # typeshed's TypeVarTuple signature
        self,
        callback: Callable[..., Any],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        """Schedule `callback`: a background one waits behind every foreground callback."""
        # asyncio's own call_soon, inlined: it runs for every task step and future callback.
        self._check_closed()  # type: ignore[attr-defined]
        if self._debug:  # type: ignore[attr-defined]
            self._check_thread()  # type: ignore[attr-defined]
            self._check_callback(callback, "call_soon")  # type: ignore[attr-defined]
        handle = asyncio.Handle(callback, args, self, context)  # context None: a copy of ours
        self._add_callback(handle)
        if self._debug and handle._source_traceback:  # type: ignore[attr-defined]
            del handle._source_traceback[-1]  # type: ignore[attr-defined]
        return handle

    def _add_callback(self, handle: asyncio.Handle) -> None:
        # Every ready callback passes here: call_soon's, and the ready socket readers and
        # writers (a background one, a push connection, queues too).
        if handle._cancelled:
            return
        if handle._context.get(_BACKGROUND, False):  # type: ignore[attr-defined]
            self._queue_background(handle)
        else:
            self._ready.append(handle)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Close the loop; queued background callbacks are dropped like ready ones."""
        self._background.clear()
        super().close()

    def _queue_background(self, handle: asyncio.Handle) -> None:
        self._background.append(handle)
        if not self._pump_queued:
            self._waiting_since = self.time()  # idle until now: nobody's turn
            self._queue_pump()

    def _queue_pump(self) -> None:
        self._pump_queued = True
        self._ready.append(self._pump)  # type: ignore[attr-defined]

    def _run_background(self) -> None:
        # _pump_queued stays True while it runs: what the slice schedules does not queue
        # a second pump (two would see each other ready and defer to each other).
        ready = self._ready  # type: ignore[attr-defined]
        started = self.time()
        waited = started - self._waiting_since
        # Foreground first, until background has waited through defer_s of it: then
        # background's turn, as long as it waited (capped), whatever is ready.
        forced = bool(ready) and waited >= self.defer_s
        if ready and not forced:
            ready.append(self._pump)  # after the foreground callbacks ready now
            return
        slice_s = min(MAX_SLICE_S, max(MIN_SLICE_S, waited)) if forced else MIN_SLICE_S
        deadline = started + slice_s
        queue = self._background
        try:
            # Until the slice ends: what a callback schedules runs in the same slice.
            while queue:
                handle = queue.popleft()
                if not handle._cancelled:
                    handle._run()
                if (ready and not forced) or self.time() >= deadline:
                    break
        finally:
            self._waiting_since = self.time()
            self._pump_queued = False
            if queue:
                self._queue_pump()
