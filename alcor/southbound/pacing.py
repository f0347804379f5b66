"""Pushes yield to the API when the event loop is busy: an adaptive coalescing window.

The API and the pushes share one event loop. Left alone, a port create that concerns 100
hosts wakes 100 senders, each building and framing a message on the loop, and requests wait
behind them (issue 18: API p50 from 1.6 ms to hundreds of ms with 100 agents). The pacer
watches how busy the loop is and widens every host's coalescing window while it is near
saturation, multiplicatively, and narrows it back, gently, once it has room again (AIMD, as
TCP does with its window). A wider window means fewer, larger messages: the same states for
less loop time, so the loop catches up and the API keeps its latency.

Why the busy share and not the timer lag alone: a loop that is half idle still fires some
timers a millisecond late (a request in progress), and widening on that kept the window at
its cap at moderate load, where it only added latency (p99 of 155 ms at 100 ports/s with 20
agents). The share of wall time the loop's thread runs, plus the lag of the probe's timer
(time it was runnable but not running, on a machine shared with agents and clients), says
whether the loop is really short of time.

The pacer also answers for the port window (`port_window`): a port's own host is pushed
within a short bound whatever the paced window, except while clients queue on the API
(the smoothed number of requests being served), when the loop's time is theirs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from alcor.lifecycle import cancel
from alcor.southbound import metrics

PROBE_S = 0.005  # how often the loop's busy share is sampled
GROW = 2.0  # window factor while the loop is busier than the target
SHRINK = 0.8  # window factor once it is clearly below it
HYSTERESIS = 0.8  # shrink only below target * HYSTERESIS (between: hold)
SMOOTHING = 0.05  # weight of the newest sample (about 100 ms of memory)
# API requests being served, smoothed, from which clients wait on the API rather than on
# their ports: a closed loop of 16 clients keeps 6-12 in flight, 580 creates/s arriving
# one by one about 1.3 (measured 2026-12-07).
API_BACKLOG = 4.0


class LoopPacer:
    """Own the coalescing window of every host's sender, following the loop's busy share."""

    def __init__(
        self, min_s: float, max_s: float, busy_target: float, port_window_s: float = 0.0
    ) -> None:
        self.min_s = min_s
        self.max_s = max(min_s, max_s)
        self.busy_target = busy_target
        self.port_window_s = port_window_s
        self.window_s = min_s
        self.busy = 0.0  # smoothed busy share of the loop, 0..1
        self.backlog = 0.0  # smoothed number of API requests being served
        # Set by the API server: how many requests it is serving (streams excluded).
        self.api_backlog: Callable[[], int] = lambda: 0
        self._task: asyncio.Task[None] | None = None

    @property
    def adaptive(self) -> bool:
        """Tell whether the window moves at all (max above min)."""
        return self.max_s > self.min_s

    def window(self) -> float:
        """Return the current coalescing window, in seconds."""
        return self.window_s

    def port_window(self) -> float | None:
        """Return how long a host with a PORT state pending may wait, or None: the window.

        A port's own host has a VM waiting for ACTIVE, so it waits at most the port window
        (send -> ACTIVE latency) however wide the paced window is; every such push costs the
        loop. Not while clients queue on the API: then the loop's time is theirs, and the
        ports travel with the window (throughput at saturation).
        """
        if not self.port_window_s or self.backlog >= API_BACKLOG:
            return None
        return self.port_window_s

    def start(self) -> None:
        """Start sampling the loop (nothing to do for a fixed window)."""
        if self.adaptive:
            self._task = asyncio.create_task(self._probe(), name="southbound-pacer")

    async def stop(self) -> None:
        """Stop sampling."""
        await cancel(self._task)
        self._task = None

    def observe(self, busy: float, backlog: int = 0) -> None:
        """Fold one busy-share sample (0..1) and the API's backlog in; move the window (AIMD)."""
        self.busy += SMOOTHING * (min(max(busy, 0.0), 1.0) - self.busy)
        self.backlog += SMOOTHING * (backlog - self.backlog)
        if self.busy > self.busy_target:
            self.window_s = min(self.max_s, max(self.window_s, self.min_s, 0.001) * GROW)
        elif self.busy < self.busy_target * HYSTERESIS:
            self.window_s = max(self.min_s, self.window_s * SHRINK)
        metrics.COALESCE_WINDOW.set(self.window_s)
        metrics.LOOP_BUSY.set(self.busy)

    async def _probe(self) -> None:
        cpu, wall = time.thread_time(), time.monotonic()
        while True:
            await asyncio.sleep(PROBE_S)
            now_cpu, now = time.thread_time(), time.monotonic()
            lag = max(0.0, now - wall - PROBE_S)
            self.observe((now_cpu - cpu + lag) / max(now - wall, 1e-6), self.api_backlog())
            cpu, wall = now_cpu, now
