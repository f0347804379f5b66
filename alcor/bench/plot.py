"""Latency CDF plot per scenario (matplotlib, headless)."""

from __future__ import annotations

from typing import Any

FLOOR_MS = 0.01


def plot_cdf(samples: dict[str, list[float]], path: str) -> None:
    """Write one CDF line per scenario (latency in ms, log x axis) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 6))
    for name, values in sorted(samples.items()):
        if len(values) < 2:
            continue
        ordered = sorted(v * 1000 for v in values)
        ys = [(i + 1) / len(ordered) for i in range(len(ordered))]
        ax.plot(ordered, ys, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction of requests")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("alcor bench: latency CDF")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_curve(rows: list[dict[str, Any]], path: str, subtitle: str) -> None:
    """Write the e2e curve: p50/p99 latency and the programmed rate against the offered rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (latency, rate) = plt.subplots(1, 2, figsize=(12, 5))
    for agents in sorted({r["agents"] for r in rows}):
        points = sorted(
            (r for r in rows if r["agents"] == agents), key=lambda r: r["offered_per_s"]
        )
        offered = [r["offered_per_s"] for r in points]
        # a log axis has no 0: ports applied before the response was read count as 0 ms
        (line,) = latency.plot(
            offered,
            [max(FLOOR_MS, r["p50_ms"] or 0) for r in points],
            "o-",
            label=f"{agents} agents, p50",
        )
        latency.plot(
            offered,
            [max(FLOOR_MS, r["p99_ms"] or 0) for r in points],
            "s--",
            color=line.get_color(),
            label=f"{agents} agents, p99",
        )
        rate.plot(
            offered,
            [r.get("programmed_per_s") or 0 for r in points],
            "o-",
            color=line.get_color(),
            label=f"{agents} agents",
        )
    top = max((r["offered_per_s"] for r in rows), default=1)
    rate.plot([0, top], [0, top], ":", color="grey", label="offered = programmed")
    latency.set_yscale("log")
    latency.set_xlabel("offered port creates per second")
    latency.set_ylabel("create answered -> applied on the host (ms)")
    rate.set_xlabel("offered port creates per second")
    rate.set_ylabel("ports programmed per second")
    for ax in (latency, rate):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"alcor bench: e2e curve ({subtitle})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
