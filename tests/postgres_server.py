"""A real PostgreSQL for the tests: the distribution's server in a temporary directory.

Fixtures (registered by tests/conftest.py; the server starts only when a test needs it):

* `postgres_server` (session): initdb + pg_ctl of Debian's `postgresql` (15) in a temp
  directory, listening on a free 127.0.0.1 port only, fsync off. initdb refuses to run
  as root, so when the tests run as root the server runs as the `postgres` user.
* `postgres_url` (function): a fresh database for one test, copied from a template that
  already holds alcor's migrated schema; dropped afterwards.

If the server cannot be started the fixture fails: PostgreSQL tests are never skipped.
.ci/run installs the `postgresql` package when it is missing.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.kafka_broker import free_port

PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/local/bin")
TEMPLATE = "alcor_template"
_NAMES = itertools.count()


def _binary(name: str) -> str:
    for directory in PG_BIN_DIRS:
        path = Path(directory) / name
        if path.exists():
            return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"PostgreSQL's {name} not found (apt-get install postgresql)")
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


async def _make_template(server: PostgresServer) -> None:
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, with alcor's schema in a template database."""
    server = PostgresServer()
    try:
        server.start()
        asyncio.run(_make_template(server))
    except (subprocess.CalledProcessError, OSError) as exc:
        log = server.log.read_text() if server.log.exists() else ""
        stderr = getattr(exc, "stderr", b"") or b""
        server.remove()
        pytest.fail(f"PostgreSQL did not start: {exc} {stderr.decode()[-2000:]} {log[-2000:]}")
    yield server
    server.remove()


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A fresh database with alcor's schema for one test; dropped afterwards."""
    name = f"t{os.getpid()}_{next(_NAMES)}"
    url = await postgres_server.create_database(name)
    yield url
    await postgres_server.drop_database(name)
