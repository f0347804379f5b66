"""A bench report as Markdown tables (for docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

HIDDEN = ("name", "count", "per_s", "p50_ms", "p99_ms", "p95_ms", "mean_ms", "max_ms", "wall_s")
MET = {True: "yes", False: "**no**", None: "-"}


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|")


def render(report: dict[str, Any]) -> str:
    """Return the header line, the results table and the targets table."""
    machine = report["machine"]
    lines = [
        f"`{report['target']}`, {report['date']} UTC, {machine['cpus']} CPUs, "
        f"Python {machine['python']}, load average at start "
        f"{machine.get('load_avg_at_start', '?')}",
        "",
        "| scenario | count | per s | p50 ms | p99 ms | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in report["results"]:
        notes = ", ".join(f"{k}={v}" for k, v in row.items() if k not in HIDDEN and k != "path")
        lines.append(
            f"| {_cell(row['name'])} | {row['count']} | {_cell(row.get('per_s'))} | "
            f"{_cell(row.get('p50_ms'))} | {_cell(row.get('p99_ms'))} | {_cell(notes)} |"
        )
    lines += ["", "| target | measured | goal | met |", "|---|---:|---|---|"]
    for item in report["targets"]:
        lines.append(
            f"| {item['target']} | {_cell(item['measured'])} | {item['goal']} | "
            f"{MET[item['met']]} |"
        )
    return "\n".join(lines) + "\n"
