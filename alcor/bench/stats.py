"""Latency samples and their summary."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Samples:
    """Latencies (seconds) of one measured operation, and its wall time."""

    name: str
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, seconds: float) -> None:
        """Record one operation."""
        self.latencies.append(seconds)
        self.count += 1

    def quantile(self, q: float) -> float | None:
        """Return the q-quantile in seconds (nearest rank), or None without samples."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
        return ordered[index]

    def summary(self) -> dict[str, Any]:
        """Return rate and latency percentiles (ms) as plain data."""
        out: dict[str, Any] = {
            "name": self.name,
            "count": self.count,
            "wall_s": round(self.wall, 4),
        }
        if self.wall > 0:
            out["per_s"] = round(self.count / self.wall, 1)
        for label, q in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
            value = self.quantile(q)
            out[label] = round(value * 1000, 3) if value is not None else None
        if self.latencies:
            out["mean_ms"] = round(statistics.fmean(self.latencies) * 1000, 3)
            out["max_ms"] = round(max(self.latencies) * 1000, 3)
        out.update(self.extra)
        return out
