"""Process-wide tuning of the Python runtime for a long-lived controller or agent.

CPython's cyclic garbage collector runs a young-generation pass every 700 container
allocations and, every 100 of those, an older pass over the whole heap. A controller holding
each host's ledger (hundreds of thousands of small tuples and records) allocates that many in
well under a millisecond of push work, so the collector took about a fifth of the
controller's CPU at 100 agents (measured in docs/benchmarks.md). alcor's long-lived state
has no reference cycles to speak of: collecting far less often costs little memory.
"""

from __future__ import annotations

import gc

DEFAULT_GC_THRESHOLD = 50_000


def tune_gc(threshold: int) -> None:
    """Collect the young generation every `threshold` allocations (0: Python's default)."""
    if threshold > 0:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)


def freeze_heap() -> None:
    """Move everything alive now (the state loaded at start-up) out of the collector's
    sight: it lives as long as the process, and full passes no longer walk it. (No
    collection first: at 100,000 ports that alone would add to the start-up time.)"""
    gc.freeze()
