"""The `alcor` command: serve, agent, bench, config show|check, outbox list."""

from __future__ import annotations

import functools
import importlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from alcor import __version__, runtime
from alcor.config import (
    ConfigError,
    ServerConfig,
    config_as_dict,
    load_config,
    url_without_password,
)
from alcor.priority import PriorityEventLoop


class _RequestIdFilter(logging.Filter):
    """Add the request id of the current request to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        from alcor.api.http import REQUEST_ID

        record.request_id = REQUEST_ID.get()
        return True


def setup_logging(level: str) -> None:
    """Log to stderr with the request id on every line."""
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _load(config_file: str | None, overrides: dict[str, Any]) -> Any:
    try:
        return load_config(config_file, overrides=overrides)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@click.group()
@click.version_option(__version__, prog_name="alcor")
def main() -> None:
    """alcor: a cloud network control plane (Neutron API, goal states to host agents)."""


@main.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML config file (default: $ALCOR_CONFIG, else ./alcor.toml if present).",
)
@click.option("--host", default=None, help="Listen address (server.host).")
@click.option("--port", type=int, default=None, help="Listen port (server.port).")
@click.option("--db", default=None, help="SQLite file (store.path).")
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING, ERROR.")
@click.option(
    "--embedded-agents",
    type=int,
    default=None,
    help="Start N reference agents in this process as nodes compute-1..N.",
)
@click.option(
    "--agents-admin",
    default=None,
    metavar="HOST:PORT",
    help="Serve the embedded agents' admin API (state dumps) on HOST:PORT.",
)
def serve(
    config_file: str | None,
    host: str | None,
    port: int | None,
    db: str | None,
    log_level: str | None,
    embedded_agents: int | None,
    agents_admin: str | None,
) -> None:
    """Run the control plane until SIGINT/SIGTERM."""
    import asyncio

    from alcor.api.serving import serve as serve_http
    from alcor.api.web import make_web_app
    from alcor.app import build

    config = _load(
        config_file,
        {
            "server.host": host,
            "server.port": port,
            "store.path": db,
            "log.level": log_level.upper() if log_level else None,
            "southbound.embedded_agents": embedded_agents,
            "southbound.embedded_agents_admin": agents_admin,
        },
    )
    setup_logging(config.log.level)
    runtime.tune_gc(config.server.gc_threshold)
    url = f"http://{config.server.host}:{config.server.port}"

    if config.store.url:
        store = f"PostgreSQL {url_without_password(config.store.url)}"
    else:
        store = f"SQLite {Path(config.store.path).resolve()}"

    loop = config.server.loop
    if loop == "asyncio" and config.server.api_first:
        loop += " (API first)"

    def announce() -> None:
        runtime.freeze_heap()  # started: what was loaded stays for the process's life
        click.echo(
            f"alcor {__version__} listening on {url} (Neutron API at {url}/v2.0), "
            f"store: {store}, auth: {config.auth.strategy}, event loop: {loop}",
            err=False,
        )
        sys.stdout.flush()

    async def run() -> None:
        # The app is built inside the loop its components will run on.
        await serve_http(make_web_app(build(config)), config.server, announce)

    with asyncio.Runner(loop_factory=event_loop_factory(config.server)) as runner:
        runner.run(run())
    click.echo("alcor stopped")


def event_loop_factory(server: ServerConfig) -> Callable[[], Any] | None:
    """Return the factory of the configured event loop (None: asyncio's default)."""
    if server.loop == "asyncio":
        if server.api_first:
            return functools.partial(PriorityEventLoop, server.background_wait_ms / 1000)
        return None
    if server.loop == "uvloop":
        try:
            uvloop = importlib.import_module("uvloop")  # optional: alcor[uvloop]
        except ImportError:
            raise click.UsageError(
                "server.loop = uvloop needs the uvloop package: pip install 'alcor[uvloop]'"
            ) from None
        return uvloop.new_event_loop  # type: ignore[no-any-return]
    raise click.UsageError(f"server.loop must be asyncio or uvloop, not {server.loop!r}")


@main.group()
def config() -> None:
    """Inspect the effective configuration."""


@config.command("show")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
def config_show(config_file: str | None) -> None:
    """Print the effective merged config (secrets masked) as TOML-like JSON."""
    import json

    click.echo(json.dumps(config_as_dict(_load(config_file, {})), indent=2))


@config.command("check")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
def config_check(config_file: str | None) -> None:
    """Validate the config; exit non-zero with every problem listed."""
    _load(config_file, {})
    click.echo("config OK")


def _attach_commands() -> None:
    """Attach the commands that live in their own packages."""
    from alcor.agent.cli import agent
    from alcor.audit_cli import audit
    from alcor.bench.cli import bench
    from alcor.outbox_cli import outbox
    from alcor.trace_cli import trace

    main.add_command(agent)
    main.add_command(audit)
    main.add_command(bench)
    main.add_command(outbox)
    main.add_command(trace)


_attach_commands()
