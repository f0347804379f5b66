"""`alcor outbox list`: the outbox of external calls, read from the store file.

It reads the store of the config (or the SQLite file --db) beside a running server (WAL,
or PostgreSQL) and while none runs: an operator can see what is pending or failing even
when alcor is down.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from alcor import errors
from alcor.config import ConfigError, StoreConfig, load_config
from alcor.store import open_store
from alcor.store import outbox as rows_of
from alcor.store.schema import MIGRATIONS


@click.group()
def outbox() -> None:
    """Inspect the outbox of external calls (Zeta)."""


@outbox.command("list")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None)
@click.option("--db", default=None, help="SQLite file (default: store.path of the config).")
@click.option("--pending", is_flag=True, help="Only rows not yet settled, oldest first.")
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
def outbox_list(
    config_file: str | None, db: str | None, pending: bool, limit: int, as_json: bool
) -> None:
    """List outbox rows (newest first; --pending: the unsettled ones in sending order)."""
    try:
        store = load_config(config_file, overrides={"store.path": db}).store
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if not store.url and not Path(store.path).exists():
        click.echo(f"no store at {store.path}", err=True)
        sys.exit(1)
    try:
        found = asyncio.run(_read(store, pending, limit))
    except (errors.ServiceUnavailable, OSError) as exc:
        click.echo(f"{store.url or store.path}: {exc}", err=True)
        sys.exit(1)
    if as_json:
        for row in found:
            click.echo(orjson.dumps(asdict(row)).decode())
        return
    _print_outbox(found)


async def _read(config: StoreConfig, pending: bool, limit: int) -> list[rows_of.Row]:
    store = open_store(config, MIGRATIONS)
    await store.start()
    try:
        return await rows_of.rows(store, pending_only=pending, limit=limit)
    finally:
        await store.stop()


def _print_outbox(found: list[Any]) -> None:
    now = time.time()
    table = Table(title=f"outbox: {len(found)} rows")
    for column in ("id", "kind", "vpc", "target", "attempts", "state", "last error"):
        table.add_column(column, overflow="fold")
    for row in found:
        if row.done_at is not None:
            state = f"{row.outcome} {now - row.done_at:.0f}s ago"
        else:
            state = f"due in {max(0.0, row.next_attempt_at - now):.0f}s"
        table.add_row(
            str(row.id),
            row.kind,
            row.key,
            row.target,
            str(row.attempts),
            state,
            row.last_error or "",
        )
    Console(width=200).print(table)
