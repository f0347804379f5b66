"""Pushes yield to the API when the event loop is busy: an adaptive coalescing window.

The API and the pushes share one event loop. Left alone, a port create that concerns 100
hosts wakes 100 senders, each building and framing a message on the loop, and requests wait
behind them (issue 18: API p50 from 1.6 ms to hundreds of ms with 100 agents). The pacer
watches the loop's lag (how late a timer fires) and widens every host's coalescing window
while the loop is late, multiplicatively, and narrows it back, gently, while the loop is on
time (AIMD, as TCP does with its window). A wider window means fewer, larger messages: the
same states for less loop time, so the loop catches up and the API keeps its latency.
"""

from __future__ import annotations

import asyncio
import time

from alcor.lifecycle import cancel
from alcor.southbound import metrics

PROBE_S = 0.005  # how often the loop's lag is sampled
GROW = 2.0  # window factor while the loop is late
SHRINK = 0.8  # window factor while it is on time
SMOOTHING = 0.3  # weight of the newest lag sample


class LoopPacer:
    """Own the coalescing window of every host's sender, following the loop's lag."""

    def __init__(self, min_s: float, max_s: float, lag_target_s: float) -> None:
        self.min_s = min_s
        self.max_s = max(min_s, max_s)
        self.lag_target_s = lag_target_s
        self.window_s = min_s
        self.lag_s = 0.0  # smoothed lag of the loop
        self._task: asyncio.Task[None] | None = None

    @property
    def adaptive(self) -> bool:
        """Tell whether the window moves at all (max above min)."""
        return self.max_s > self.min_s

    def window(self) -> float:
        """Return the current coalescing window, in seconds."""
        return self.window_s

    def start(self) -> None:
        """Start sampling the loop's lag (nothing to do for a fixed window)."""
        if self.adaptive:
            self._task = asyncio.create_task(self._probe(), name="southbound-pacer")

    async def stop(self) -> None:
        """Stop sampling."""
        await cancel(self._task)
        self._task = None

    def observe(self, lag_s: float) -> None:
        """Fold one lag sample in and move the window (AIMD)."""
        self.lag_s += SMOOTHING * (max(lag_s, 0.0) - self.lag_s)
        if self.lag_s > self.lag_target_s:
            self.window_s = min(self.max_s, max(self.window_s, self.min_s, 0.001) * GROW)
        else:
            self.window_s = max(self.min_s, self.window_s * SHRINK)
        metrics.COALESCE_WINDOW.set(self.window_s)

    async def _probe(self) -> None:
        while True:
            due = time.monotonic() + PROBE_S
            await asyncio.sleep(PROBE_S)
            self.observe(time.monotonic() - due)
