"""Latency CDF plot per scenario (matplotlib, headless)."""

from __future__ import annotations


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
