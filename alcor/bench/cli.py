"""`alcor bench`: run scenarios, show progress, print a table, write JSON and a latency CDF."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from alcor import __version__
from alcor.bench import scenarios
from alcor.bench.stats import Samples
from alcor.bench.targets import check_targets

ALL = ("api-create", "e2e", "fanout", "list", "scale")


@click.command()
@click.option(
    "--url",
    default=None,
    help="Target a running Neutron-compatible endpoint instead of starting alcor.",
)
@click.option("--token", default=None, help="X-Auth-Token to send with --url.")
@click.option(
    "--api-only", is_flag=True, help="Skip scenarios that need alcor agents (e2e, fanout, scale)."
)
@click.option("--quick", is_flag=True, help="Small sizes: every scenario under a minute.")
@click.option("--full", is_flag=True, help="Large sizes (1,000,000 ports for scale).")
@click.option(
    "--tiny", is_flag=True, hidden=True, help="Smallest sizes (the test suite's smoke run)."
)
@click.option(
    "--scenario",
    "chosen",
    multiple=True,
    type=click.Choice(ALL),
    help="Run only these scenarios (repeatable).",
)
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the results as JSON.",
)
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a latency CDF per scenario (PNG).",
)
@click.option(
    "--markdown",
    "markdown_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the results and targets as Markdown tables.",
)
@click.option("--agents", type=int, default=None, help="Reference agents for e2e.")
@click.option(
    "--store",
    type=click.Choice(["sqlite", "postgresql"]),
    default="sqlite",
    show_default=True,
    help="postgresql: the scale-out comparison, one process on SQLite against --processes "
    "processes on one PostgreSQL database (nothing else is run).",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    multiple=True,
    help="Process counts to measure on PostgreSQL (repeatable; default 1, 2, 4).",
)
@click.option(
    "--store-url",
    default=None,
    help="An existing PostgreSQL database to use (emptied!) instead of a private server.",
)
def bench(
    url: str | None,
    token: str | None,
    api_only: bool,
    quick: bool,
    full: bool,
    tiny: bool,
    chosen: tuple[str, ...],
    json_file: str | None,
    plot_file: str | None,
    markdown_file: str | None,
    agents: int | None,
    store: str,
    processes: tuple[int, ...],
    store_url: str | None,
) -> None:
    """Measure alcor (or any Neutron endpoint) on this machine, side by side."""
    sizes = (
        scenarios.TINY
        if tiny
        else scenarios.QUICK
        if quick
        else scenarios.FULL
        if full
        else scenarios.STANDARD
    )
    if agents is not None:
        sizes = scenarios.Sizes(**{**sizes.__dict__, "agents": agents})
    names = list(chosen) or list(ALL)
    if url is not None or api_only:
        names = [n for n in names if n in ("api-create", "list")]
    console = Console(width=max(Console().width, 140))
    if store == "postgresql":
        report = asyncio.run(_run_scaleout(processes or (1, 2, 4), store_url, sizes, console))
    else:
        report = asyncio.run(_run(names, sizes, url, token, console))
    report["targets"] = check_targets(report["results"]) if store == "sqlite" else []
    _print(console, report)
    if json_file:
        Path(json_file).write_text(json.dumps(report, indent=2))
        console.print(f"wrote {json_file}")
    if markdown_file:
        from alcor.bench.markdown import render

        Path(markdown_file).write_text(render(report))
        console.print(f"wrote {markdown_file}")
    if plot_file:
        from alcor.bench.plot import plot_cdf

        plot_cdf(report["samples"], plot_file)
        console.print(f"wrote {plot_file}")


async def _run(
    names: list[str], sizes: scenarios.Sizes, url: str | None, token: str | None, console: Console
) -> dict[str, Any]:
    from alcor.bench.client import Client
    from alcor.bench.server import ServerProcess

    server = None if url is not None else ServerProcess()
    results: list[Samples] = []
    started = time.time()
    load_at_start = os.getloadavg()
    with _progress(console) as progress:
        try:
            if server is not None:
                await server.start()
            target = url or server.url  # type: ignore[union-attr]
            client = Client(target, token=token)
            try:
                results += await _scenarios(names, sizes, client, server, progress)
            finally:
                await client.close()
        finally:
            if server is not None:
                await server.stop()
                server.cleanup()
    target = url or "alcor serve (fresh SQLite store)"
    return _report(target, started, load_at_start, sizes, names, results)


@contextlib.contextmanager
def _progress(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """A transient progress bar; yields progress(label, done, total)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        yield progress


def _report(
    target: str,
    started: float,
    load_at_start: tuple[float, float, float],
    sizes: scenarios.Sizes,
    names: list[str],
    results: list[Samples],
) -> dict[str, Any]:
    return {
        "alcor_version": __version__,
        "target": target,
        "date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started)),
        "machine": {
            "python": platform.python_version(),
            "cpus": _cpus(),
            "platform": platform.platform(),
            # other work on the machine skews every number: record it with them
            "load_avg_at_start": [round(x, 2) for x in load_at_start],
        },
        "sizes": sizes.__dict__,
        "scenarios": names,
        "results": [s.summary() for s in results],
        "samples": {s.name: s.latencies for s in results if len(s.latencies) > 1},
    }


async def _run_scaleout(
    counts: tuple[int, ...], store_url: str | None, sizes: scenarios.Sizes, console: Console
) -> dict[str, Any]:
    from alcor.bench import scaleout

    started, load_at_start = time.time(), os.getloadavg()
    with _progress(console) as progress:
        results = await scaleout.run(
            counts, store_url, sizes.clients * 2, sizes.concurrent, progress
        )
    return _report(
        "alcor serve: 1 process on SQLite, N processes on one PostgreSQL database",
        started,
        load_at_start,
        sizes,
        ["scale-out"],
        results,
    )


async def _scenarios(
    names: list[str], sizes: scenarios.Sizes, client: Any, server: Any, progress: Any
) -> list[Samples]:
    results: list[Samples] = []
    if "api-create" in names:
        results += await scenarios.api_create(client, sizes, progress)
    if "list" in names or "scale" in names:
        listed, _ = await scenarios.lists(client, sizes, progress)
        if "list" in names:
            results += listed
        if "scale" in names and server is not None:
            results += await scenarios.scale(server, sizes, progress)
    if "fanout" in names:
        from alcor.bench import fanout

        results += await asyncio.get_running_loop().run_in_executor(
            None, fanout.run, sizes.fanout_hosts, sizes.fanout_ports
        )
        progress("fanout", 1, 1)
    if "e2e" in names and server is not None:
        from alcor.bench import e2e

        results += await e2e.run(client, server, sizes, progress)
    return results


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _print(console: Console, report: dict[str, Any]) -> None:
    table = Table(title=f"alcor bench — {report['target']} — {report['date']} UTC")
    for column in ("scenario", "count", "per s", "p50 ms", "p99 ms", "notes"):
        table.add_column(column, justify="right" if column != "scenario" else "left")
    for row in report["results"]:
        notes = {
            k: v
            for k, v in row.items()
            if k
            not in (
                "name",
                "count",
                "per_s",
                "p50_ms",
                "p99_ms",
                "p95_ms",
                "mean_ms",
                "max_ms",
                "wall_s",
            )
        }
        table.add_row(
            row["name"],
            str(row["count"]),
            str(row.get("per_s", "")),
            str(row.get("p50_ms", "")),
            str(row.get("p99_ms", "")),
            ", ".join(f"{k}={v}" for k, v in notes.items()),
        )
    console.print(table)
    if not report["targets"]:
        return
    targets = Table(title="targets")
    for column in ("target", "measured", "goal", "met"):
        targets.add_column(column)
    for item in report["targets"]:
        targets.add_row(
            item["target"],
            str(item["measured"]),
            item["goal"],
            {True: "yes", False: "NO", None: "-"}[item["met"]],
        )
    console.print(targets)
