"""A real PostgreSQL for the tests: the distribution's server in a temporary directory.

Fixtures (registered by tests/conftest.py; the server starts only when a test needs it):

* `postgres_server` (session): initdb + pg_ctl of Debian's `postgresql` (15) in a temp
  directory, listening on a free 127.0.0.1 port only, fsync off. initdb refuses to run
  as root, so when the tests run as root the server runs as the `postgres` user.
* `postgres_url` (function): an empty database with alcor's migrated schema for one test.
  The session's database is copied once from a migrated template; before each test every
  table is emptied (2 ms, where creating a database per test costs 100-200 ms).

If the server cannot be started the fixture fails: PostgreSQL tests are never skipped.
.ci/run installs the `postgresql` package when it is missing.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from alcor.bench.postgres import PostgresServer, make_template

_NAMES = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, with alcor's schema in a template database."""
    server = PostgresServer()
    try:
        server.start()
        asyncio.run(make_template(server))
    except (subprocess.CalledProcessError, OSError) as exc:
        log = server.log.read_text() if server.log.exists() else ""
        stderr = getattr(exc, "stderr", b"") or b""
        server.remove()
        pytest.fail(f"PostgreSQL did not start: {exc} {stderr.decode()[-2000:]} {log[-2000:]}")
    yield server
    server.remove()


@pytest.fixture(scope="session")
def postgres_database(postgres_server: PostgresServer) -> str:
    """The session's test database (alcor's schema), shared by the tests one at a time."""
    name = f"t{os.getpid()}_{next(_NAMES)}"
    return asyncio.run(postgres_server.create_database(name))


# The rows the migrations seed (default security group rule templates), read from the
# fresh database once and put back after each emptying: table -> rows.
_SEEDS: dict[str, dict[str, list[Any]]] = {}


@pytest.fixture
async def postgres_url(postgres_database: str) -> AsyncIterator[str]:
    """The test database, emptied: every table of the schema holds only its seeded rows."""
    conn = await asyncpg.connect(postgres_database)
    try:
        tables = [
            row[0]
            for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'schema_version'"
            )
        ]
        if postgres_database not in _SEEDS:  # first use: the database is as migrated
            seeds = {t: list(await conn.fetch(f'SELECT * FROM "{t}"')) for t in tables}
            _SEEDS[postgres_database] = {t: rows for t, rows in seeds.items() if rows}
        await conn.execute("; ".join(f'DELETE FROM "{table}"' for table in tables))
        for table, rows in _SEEDS[postgres_database].items():
            await conn.copy_records_to_table(table, records=[tuple(r) for r in rows])
    finally:
        await conn.close()
    yield postgres_database
