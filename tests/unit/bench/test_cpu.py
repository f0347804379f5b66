"""The CPU clock of the benchmark's processes."""

from __future__ import annotations

import os
import time

from alcor.bench.cpu import CpuShares, cpu_seconds


def _burn(seconds: float) -> None:
    """Use `seconds` of this process's CPU time (not wall time)."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_seconds_counts_the_process_work():
    """What the process burned shows in its /proc times; a missing process gives None."""
    before = cpu_seconds(os.getpid())
    assert before is not None
    _burn(0.2)
    after = cpu_seconds(os.getpid())
    assert after is not None and after - before >= 0.15  # clock ticks are 10 ms
    assert cpu_seconds(2**22 + 1) is None  # above the kernel's pid_max


def test_cpu_shares_leave_out_what_cannot_be_read():
    """Shares are in cores per named process; an unreadable pid is not reported."""
    clock = CpuShares({"me": os.getpid(), "gone": 2**22 + 1})
    clock.start()
    _burn(0.1)
    shares = clock.stop()
    assert set(shares) == {"me"} and shares["me"] > 0
