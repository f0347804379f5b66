"""`alcor outbox list`: the outbox of external calls, read from the store file.

It opens the SQLite file read-only, so it works beside a running server (WAL) and while
none runs: an operator can see what is pending or failing even when alcor is down.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import orjson
import sqlite_utils
from rich.console import Console
from rich.table import Table

from alcor.config import ConfigError, load_config
from alcor.store import outbox as rows_of


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
        path = db or load_config(config_file).store.path
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if not Path(path).exists():
        click.echo(f"no store at {path}", err=True)
        sys.exit(1)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # read-only, beside a server
    try:
        found = rows_of.rows(sqlite_utils.Database(conn), pending_only=pending, limit=limit)
    except sqlite3.OperationalError as exc:
        click.echo(f"{path}: {exc} (not an alcor store, or an older schema)", err=True)
        sys.exit(1)
    finally:
        conn.close()
    if as_json:
        for row in found:
            click.echo(orjson.dumps(asdict(row)).decode())
        return
    _print_outbox(found)


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
