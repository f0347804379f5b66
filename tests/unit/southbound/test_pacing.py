"""The adaptive coalescing window: AIMD on the event loop's busy share."""

from __future__ import annotations

import asyncio

from alcor.southbound.pacing import LoopPacer


def test_the_window_widens_while_the_loop_is_saturated_and_narrows_back():
    """Busy samples double the window up to its cap; idle ones shrink it to its floor."""
    pacer = LoopPacer(min_s=0.002, max_s=0.2, busy_target=0.9)
    for _ in range(200):
        pacer.observe(1.0)
    assert pacer.window() == 0.2
    widest = pacer.window()
    pacer.observe(0.0)  # one idle sample: the smoothed share is still above the target
    assert pacer.window() == widest
    for _ in range(300):
        pacer.observe(0.0)
    assert pacer.window() == 0.002


def test_a_loop_with_room_never_widens_the_window():
    """A loop busy 70% of the time (bursts included) leaves the window at its floor."""
    pacer = LoopPacer(min_s=0.002, max_s=0.2, busy_target=0.9)
    for i in range(500):
        pacer.observe(1.0 if i % 10 < 7 else 0.0)
    assert pacer.window() == 0.002


def test_between_the_thresholds_the_window_holds():
    """Just under the target (above target * hysteresis) the window neither grows nor shrinks."""
    pacer = LoopPacer(min_s=0.002, max_s=0.2, busy_target=0.9)
    for _ in range(200):
        pacer.observe(1.0)
    for _ in range(500):
        pacer.observe(0.8)
    assert pacer.window() == 0.2


def test_a_fixed_window_has_no_probe():
    """With max equal to min the window never moves and no task runs."""
    pacer = LoopPacer(min_s=0.002, max_s=0.002, busy_target=0.9)
    assert not pacer.adaptive


async def test_a_busy_loop_widens_the_window_of_a_running_pacer():
    """A loop kept busy by synchronous work is seen busy by the probe."""
    pacer = LoopPacer(min_s=0.002, max_s=0.2, busy_target=0.9)
    pacer.start()
    try:
        async with asyncio.timeout(10):
            while pacer.window() <= 0.002:
                deadline = asyncio.get_running_loop().time() + 0.02
                while asyncio.get_running_loop().time() < deadline:
                    pass  # hold the loop for 20 ms
                await asyncio.sleep(0)
    finally:
        await pacer.stop()
    assert pacer.window() > 0.002


def test_a_port_waits_the_port_window_unless_clients_queue_on_the_api():
    """The port window holds while the API's backlog is small and gives way to the paced
    window once clients queue (smoothed: one busy sample does not flip it)."""
    pacer = LoopPacer(min_s=0.002, max_s=0.2, busy_target=0.9, port_window_s=0.02)
    pacer.observe(0.5, backlog=1)
    assert pacer.port_window() == 0.02
    pacer.observe(0.5, backlog=16)  # one sample of a burst
    assert pacer.port_window() == 0.02
    for _ in range(100):
        pacer.observe(1.0, backlog=12)  # a closed loop of clients
    assert pacer.port_window() is None
    for _ in range(100):
        pacer.observe(0.5, backlog=1)
    assert pacer.port_window() == 0.02


def test_no_port_window_configured_means_the_paced_window():
    """coalesce_port_ms = 0: a PORT state waits like any other."""
    pacer = LoopPacer(min_s=0.002, max_s=0.2, busy_target=0.9, port_window_s=0.0)
    assert pacer.port_window() is None
