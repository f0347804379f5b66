"""`alcor bench`: run scenarios, show progress, print a table, write JSON and a latency CDF."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from alcor import __version__
from alcor.bench import curve, limits, scenarios
from alcor.bench.limits import attach_fractions, describe
from alcor.bench.markdown import HIDDEN
from alcor.bench.stats import Samples
from alcor.bench.targets import check_targets
from alcor.config import SouthboundConfig

ALL = ("api-create", "e2e", "fanout", "list", "scale")
# Run only when named: the gRPC transport plugins side by side (push.py); the Zeta scale
# test (zeta.py, its own servers with Zeta off and on, and the Zeta double); the API's
# latency with and without agents being programmed (under_push.py, its own servers).
OPTIONAL = ("push", "zeta", "api-under-push")
# Scenarios that start their own servers (no shared one).
OWN_SERVERS = ("zeta", "api-under-push")


def _output_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Make an output file's directory before the run, not fail after minutes of it."""
    if value is not None:
        try:
            Path(value).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.BadParameter(f"cannot make the directory of {value}: {exc}") from exc
    return value


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
    type=click.Choice(ALL + OPTIONAL),
    help="Run only these scenarios (repeatable).",
)
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False),
    default=None,
    callback=_output_file,
    help="Write the results as JSON.",
)
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False),
    default=None,
    callback=_output_file,
    help="Write a latency CDF per scenario (PNG).",
)
@click.option(
    "--markdown",
    "markdown_file",
    type=click.Path(dir_okay=False),
    default=None,
    callback=_output_file,
    help="Write the results and targets as Markdown tables.",
)
@click.option(
    "--curve",
    "curve_file",
    type=click.Path(dir_okay=False),
    default=None,
    callback=_output_file,
    help="Measure the e2e curve (latency against offered rate, 20 and 100 agents) and plot "
    "it to this PNG; alone, without --scenario, only the curve runs.",
)
@click.option("--agents", type=int, default=None, help="Reference agents for e2e.")
@click.option(
    "--transport",
    default=SouthboundConfig.default_transport,
    show_default=True,
    help="Southbound transport of the e2e nodes and of the gRPC no-op limit.",
)
@click.option("--no-limits", is_flag=True, help="Skip measuring the machine limits (no fractions).")
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
@click.option(
    "--zeta-url",
    default=None,
    help="zeta scenario: load this Zeta instead of starting the double of the checkout.",
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
    curve_file: str | None,
    agents: int | None,
    transport: str,
    no_limits: bool,
    store: str,
    processes: tuple[int, ...],
    store_url: str | None,
    zeta_url: str | None,
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
    names = list(chosen) or ([] if curve_file else list(ALL))
    plan = None
    if curve_file:
        plan = curve.TINY if tiny else curve.QUICK if quick else curve.STANDARD
    if url is not None or api_only:
        names = [n for n in names if n in ("api-create", "list")]
    console = Console(width=max(Console().width, 140))
    if store == "postgresql":
        report = asyncio.run(_run_scaleout(processes or (1, 2, 4), store_url, sizes, console))
        report["targets"] = []
    else:
        options = RunOptions(names, sizes, url, token, transport, not no_limits, plan, zeta_url)
        report = asyncio.run(_run(options, console))
        report["targets"] = check_targets(report["results"])
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
    if curve_file:
        from alcor.bench.plot import plot_curve

        machine = report["machine"]
        subtitle = (
            f"{report['date']} UTC, {machine['cpus']} CPUs, transport {transport}, load average "
            f"{machine['load_avg_at_start']} at start, {machine['load_avg_at_end']} at end"
        )
        rows = [r for r in report["results"] if r["name"].startswith("e2e curve")]
        plot_curve(rows, curve_file, subtitle)
        console.print(f"wrote {curve_file}")


@dataclass(frozen=True)
class RunOptions:
    """What one `alcor bench` run measures."""

    names: list[str]
    sizes: scenarios.Sizes
    url: str | None
    token: str | None
    transport: str
    limits: bool
    curve: curve.CurvePlan | None = None
    zeta_url: str | None = None


async def _run(options: RunOptions, console: Console) -> dict[str, Any]:
    from alcor.bench.client import Client
    from alcor.bench.server import ServerProcess

    names, sizes, url = options.names, options.sizes, options.url
    # zeta and api-under-push start their own servers (fresh stores, per round).
    shared = url is None and (any(n not in OWN_SERVERS for n in names) or options.curve is not None)
    server = ServerProcess() if shared else None
    results: list[Samples] = []
    limits: list[Samples] = []
    started = time.time()
    load_at_start = os.getloadavg()
    with _progress(console) as progress:
        try:
            if server is not None:
                await server.start()
            target = url or (server.url if server is not None else None)
            if target is not None:
                client = Client(target, token=options.token)
                try:
                    if options.limits:
                        limits += await _limits(options, client, server, progress)
                    results += await _scenarios(options, client, server, progress)
                finally:
                    await client.close()
            if "zeta" in names:
                from alcor.bench import zeta

                results += await zeta.run(sizes, progress, options.zeta_url)
            if "api-under-push" in names:
                from alcor.bench import under_push

                results += await under_push.run(sizes, progress, options.transport)
        finally:
            if server is not None:
                await server.stop()
                server.cleanup()
    rows = [s.summary() for s in results]
    limit_rows = [s.summary() for s in limits]
    attach_fractions(rows, limit_rows)
    report = _report(url or "alcor serve (fresh SQLite store)", started, load_at_start, results)
    report.update({"sizes": sizes.__dict__, "scenarios": names, "transport": options.transport})
    report["limits"], report["results"] = limit_rows, rows
    return report


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
    target: str, started: float, load_at_start: tuple[float, float, float], results: list[Samples]
) -> dict[str, Any]:
    """Return the report's header (machine, load) with the results and their samples."""
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
            "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        },
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
    target = "alcor serve: 1 process on SQLite, N processes on one PostgreSQL database"
    report = _report(target, started, load_at_start, results)
    report.update({"sizes": sizes.__dict__, "scenarios": ["scale-out"], "limits": []})
    return report


async def _limits(options: RunOptions, client: Any, server: Any, progress: Any) -> list[Samples]:
    """Measure the limits that bound the chosen scenarios (limits.py)."""
    names, sizes = options.names, options.sizes
    out: list[Samples] = []
    if "api-create" in names and server is not None:
        out += await limits.sqlite_limits(client, server, sizes, progress)
    if "api-create" in names or "list" in names:
        out += await limits.http_limits(sizes, progress)
    if "e2e" in names and server is not None:
        out += await limits.grpc_limits(sizes, options.transport, progress)
    return out


async def _scenarios(options: RunOptions, client: Any, server: Any, progress: Any) -> list[Samples]:
    names, sizes = options.names, options.sizes
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

        results += await e2e.run(client, server, sizes, progress, options.transport)
    if "push" in names and server is not None:
        from alcor.bench import push

        results += await push.run(server.grpc_port, server.workdir, sizes, progress)
    if options.curve is not None and server is not None:
        results += await curve.run(client, server, options.curve, options.transport, progress)
    return results


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _print(console: Console, report: dict[str, Any]) -> None:
    if report["limits"]:
        limits_table = Table(title="machine limits (measured in this run)")
        for column in ("limit", "count", "per s", "p50 ms", "p99 ms", "notes"):
            limits_table.add_column(column, justify="left" if column == "limit" else "right")
        for row in report["limits"]:
            limits_table.add_row(*_cells(row))
    table = Table(title=f"alcor bench — {report['target']} — {report['date']} UTC")
    for column in ("scenario", "count", "per s", "of limit", "p50 ms", "p99 ms", "notes"):
        table.add_column(column, justify="right" if column != "scenario" else "left")
    for row in report["results"]:
        cells = _cells(row)
        table.add_row(*cells[:3], describe(row.get("of_limit", {})), *cells[3:])
    if report["limits"]:
        console.print(limits_table)
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


def _cells(row: dict[str, Any]) -> list[str]:
    """Return name, count, per s, p50, p99 and the other keys as notes."""
    notes = {k: v for k, v in row.items() if k not in HIDDEN}
    return [
        row["name"],
        str(row["count"]),
        str(row.get("per_s", "")),
        str(row.get("p50_ms", "")),
        str(row.get("p99_ms", "")),
        ", ".join(f"{k}={v}" for k, v in notes.items()),
    ]
