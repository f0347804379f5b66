"""A private PostgreSQL server in a temporary directory (the bench and the tests use it).

Debian's `postgresql` binaries (initdb, pg_ctl) on a free 127.0.0.1 port, fsync off: a
server to measure and test with, not to keep data in. initdb refuses to run as root, so as
root the server runs as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg


def free_port() -> int:
    """Return a TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/local/bin")
TEMPLATE = "alcor_template"


def _binary(name: str) -> str:
    for directory in PG_BIN_DIRS:
        path = Path(directory) / name
        if path.exists():
            return str(path)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} not found (apt-get install postgresql)")
    return found


def _as_server_user(argv: list[str]) -> list[str]:
    """Run as `postgres` when we are root (initdb and postgres refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class PostgresServer:
    """One PostgreSQL cluster in a temp directory on 127.0.0.1."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="alcor-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"

    @property
    def admin_url(self) -> str:
        """Return the URL of the maintenance database."""
        return self.url("postgres")

    def url(self, database: str) -> str:
        """Return the URL of `database` on this server."""
        return f"postgresql://alcor@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """initdb (once) and start the server; wait until it accepts connections."""
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        if not self.data.exists():
            subprocess.run(
                _as_server_user(
                    [
                        _binary("initdb"),
                        "-D",
                        str(self.data),
                        "-U",
                        "alcor",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--locale=C",
                        "--no-sync",
                    ]
                ),
                check=True,
                capture_output=True,
            )
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-p {self.port}",
                f"-c unix_socket_directories={self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=300",
                "-c shared_buffers=64MB",
            ]
        )
        subprocess.run(
            _as_server_user(
                [
                    _binary("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate`: as if it crashed)."""
        subprocess.run(
            _as_server_user([_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            check=False,
            capture_output=True,
        )

    def remove(self) -> None:
        """Stop and delete the cluster."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    async def create_database(self, name: str, template: str = TEMPLATE) -> str:
        """Create `name` as a copy of `template`; return its URL."""
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            await conn.close()
        return self.url(name)

    async def drop_database(self, name: str) -> None:
        """Drop `name`, disconnecting whoever is still connected."""
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def make_template(server: PostgresServer) -> None:
    """Create the template database and migrate it to alcor's current schema."""
    from alcor.config import StoreConfig
    from alcor.store.postgres import PostgresStore
    from alcor.store.schema import MIGRATIONS

    conn = await asyncpg.connect(server.admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE template0')
    finally:
        await conn.close()
    store = PostgresStore(StoreConfig(url=server.url(TEMPLATE)), MIGRATIONS)
    await store.start()
    await store.stop()
