"""The speed targets of the benchmark issue, checked against a run's results."""

from __future__ import annotations

from typing import Any

# (target, scenario name prefix, metric, comparison, goal value, goal text)
TARGETS = (
    ("port create, 1 client: rate", "port create, 1 client", "per_s", ">=", 800, ">= 800/s"),
    ("port create, 1 client: p50", "port create, 1 client", "p50_ms", "<=", 1.5, "<= 1.5 ms"),
    ("port create, 16 clients: rate", "port create, 16 clients", "per_s", ">=", 2000, ">= 2,000/s"),
    ("bulk port create", "bulk port create", "ports_per_s", ">=", 10_000, ">= 10,000 ports/s"),
    ("GET 1,000 ports (median)", "GET 1,000 ports", "p50_ms", "<=", 15, "<= 15 ms"),
    ("e2e programming p50", "e2e at", "p50_ms", "<=", 5, "<= 5 ms"),
    ("e2e programming p99", "e2e at", "p99_ms", "<=", 25, "<= 25 ms"),
    ("one port joins a 10k-port subnet", "one port joins", "p50_ms", "<=", 20, "<= 20 ms"),
    ("new host with 10k neighbor states", "new host with", "p50_ms", "<=", 100, "<= 100 ms"),
    ("trace across a 10k-port network", "trace across", "p50_ms", "<=", 10, "<= 10 ms"),
    ("RSS with the stored ports", "scale", "rss_mb_after_restart", "<=", 1024, "<= 1 GB"),
    ("start-up with the stored ports", "scale", "startup_s", "<=", 5, "<= 5 s"),
)


def check_targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return each target with the measured value and whether it is met (None = not run)."""
    out = []
    for target, prefix, metric, op, goal, text in TARGETS:
        row = next((r for r in results if r["name"].startswith(prefix)), None)
        value = row.get(metric) if row is not None else None
        met = None if value is None else (value >= goal if op == ">=" else value <= goal)
        out.append(
            {
                "target": target,
                "measured": value,
                "goal": text,
                "met": met,
                "scenario": row["name"] if row else None,
            }
        )
    return out
