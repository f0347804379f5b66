"""CPU time of the benchmark's own processes: which one bounds a run.

On a small machine the controller, the reference agents' process and the load generator
share the cores. A rate alone does not say which of them ran out; the CPU each used over
the run, in cores (1.0 = one core busy the whole time), does.
"""

from __future__ import annotations

import os
import time


def cpu_seconds(pid: int) -> float | None:
    """Return the user + system CPU seconds of process `pid` (all its threads), or None
    where /proc cannot tell (not Linux, or the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The command name may hold spaces and parentheses: the fields follow the last ')'.
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuShares:
    """Cores used by named processes between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._start: dict[str, float | None] = {}
        self._t0 = 0.0

    def start(self) -> None:
        """Note every process's CPU time now."""
        self._t0 = time.perf_counter()
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}

    def stop(self) -> dict[str, float]:
        """Return cores used by each process since `start()` (processes /proc can't read
        are left out)."""
        wall = time.perf_counter() - self._t0
        out = {}
        for name, pid in self._pids.items():
            before, after = self._start.get(name), cpu_seconds(pid)
            if before is not None and after is not None and wall > 0:
                out[name] = round((after - before) / wall, 2)
        return out
