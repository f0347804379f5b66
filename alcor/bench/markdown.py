"""A bench report as Markdown tables (for docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

from alcor.bench.limits import describe

HIDDEN = (
    "name",
    "count",
    "per_s",
    "p50_ms",
    "p99_ms",
    "p95_ms",
    "mean_ms",
    "max_ms",
    "wall_s",
    "path",
    "of_limit",
    "limit",
)
MET = {True: "yes", False: "**no**", None: "-"}


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|")


def _row(row: dict[str, Any], *middle: str) -> str:
    notes = ", ".join(f"{k}={v}" for k, v in row.items() if k not in HIDDEN)
    cells = [
        _cell(row["name"]),
        str(row["count"]),
        _cell(row.get("per_s")),
        *middle,
        _cell(row.get("p50_ms")),
        _cell(row.get("p99_ms")),
        _cell(notes),
    ]
    return "| " + " | ".join(cells) + " |"


def render(report: dict[str, Any]) -> str:
    """Return the header line, the machine limits, the results and the targets as tables."""
    machine = report["machine"]
    lines = [
        f"`{report['target']}`, {report['date']} UTC, {machine['cpus']} CPUs, "
        f"Python {machine['python']}, load average at start "
        f"{machine.get('load_avg_at_start', '?')}",
        "",
    ]
    if report.get("limits"):
        lines += ["| machine limit | count | per s | p50 ms | p99 ms | notes |"]
        lines += ["|---|---:|---:|---:|---:|---|"]
        lines += [_row(row) for row in report["limits"]]
        lines += [""]
    lines += [
        "| scenario | count | per s | of limit | p50 ms | p99 ms | notes |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    lines += [_row(row, _cell(describe(row.get("of_limit", {})))) for row in report["results"]]
    if not report["targets"]:
        return "\n".join(lines) + "\n"
    lines += ["", "| target | measured | goal | met |", "|---|---:|---|---|"]
    for item in report["targets"]:
        lines.append(
            f"| {item['target']} | {_cell(item['measured'])} | {item['goal']} | "
            f"{MET[item['met']]} |"
        )
    return "\n".join(lines) + "\n"
