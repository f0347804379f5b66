"""The adaptive coalescing window: AIMD on the event loop's lag."""

from __future__ import annotations

import asyncio

from alcor.southbound.pacing import LoopPacer


def test_the_window_widens_while_the_loop_is_late_and_narrows_back():
    """Late samples double the window up to its cap; on-time samples shrink it to its floor."""
    pacer = LoopPacer(min_s=0.002, max_s=0.2, lag_target_s=0.001)
    for _ in range(20):
        pacer.observe(0.050)
    assert pacer.window() == 0.2
    widest = pacer.window()
    pacer.observe(0.0)  # one on-time sample: the smoothed lag is still above the target
    assert pacer.window() == widest
    for _ in range(100):
        pacer.observe(0.0)
    assert pacer.window() == 0.002


def test_a_small_lag_below_the_target_never_widens_the_window():
    """Jitter under the target leaves the window at its floor."""
    pacer = LoopPacer(min_s=0.002, max_s=0.2, lag_target_s=0.001)
    for _ in range(50):
        pacer.observe(0.0005)
    assert pacer.window() == 0.002


def test_a_fixed_window_has_no_probe():
    """With max equal to min the window never moves and no task runs."""
    pacer = LoopPacer(min_s=0.002, max_s=0.002, lag_target_s=0.001)
    assert not pacer.adaptive


async def test_a_busy_loop_widens_the_window_of_a_running_pacer():
    """A loop blocked for a while (a burst of synchronous work) is seen late by the probe."""
    pacer = LoopPacer(min_s=0.002, max_s=0.2, lag_target_s=0.001)
    pacer.start()
    try:
        async with asyncio.timeout(10):
            while pacer.window() <= 0.002:
                deadline = asyncio.get_running_loop().time() + 0.02
                while asyncio.get_running_loop().time() < deadline:
                    pass  # hold the loop for 20 ms
                await asyncio.sleep(0.006)
    finally:
        await pacer.stop()
    assert pacer.window() > 0.002
