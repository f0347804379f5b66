"""PostgreSQL behind the Store interface (asyncpg): several alcor processes on one database.

Statements are the same SQL as on SQLite; `?` placeholders become `$n` (translated once
per statement text and cached). Transactions are READ COMMITTED, as in Neutron, with the
correctness the single SQLite writer gave for free now held by the database itself:
compare-and-swap updates (revisions, free ranges), unique constraints on allocations, and
`lock(key)` (a transaction-scoped advisory lock) around check-then-write sequences.

Failures map to what the API layer knows: a serialization failure, a deadlock or a unique
violation raise RetryRequest (the request runs again from the start, as Neutron retries
DBDeadlock and DBDuplicateEntry); a lost or unreachable database raises
DatabaseUnavailable (503), and since nothing is committed before COMMIT, no request is
half applied. The pool reconnects by itself when the database returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, TypeVar

import asyncpg

from alcor import errors
from alcor.config import StoreConfig
from alcor.lifecycle import cancel
from alcor.store import changes, feed
from alcor.store.db import (
    _CURRENT,
    Dialect,
    Positions,
    RetryRequest,
    Row,
    Transaction,
    run_before_commit,
)
from alcor.store.ddl import Ddl

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
Migration = Callable[[Ddl], None]

# One advisory lock key space: hashtextextended of the key's text.
_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
_SHARED_LOCK_SQL = "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))"
# Serialises schema migrations of processes starting together (session-level lock).
_MIGRATION_LOCK = 0x616C636F72  # "alcor"
# How often the newest position is read, for readers waiting on other processes' commits.
POLL_S = 0.2
_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?")
_RETRYABLE = (
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.UniqueViolationError,
)
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def translate(sql: str) -> str:
    """Return `sql` with each `?` placeholder (outside quotes) numbered as `$n`."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) != "?":
            return match.group(0)
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql)


def _args(params: Sequence[Any]) -> Sequence[Any]:
    """Return the parameters with NUL characters replaced: PostgreSQL text cannot hold one
    (SQLite can), and no stored text has one (the API refuses control characters), so a
    lookup by an id with a NUL finds nothing on both engines instead of failing here."""
    if not any(isinstance(p, str) and "\x00" in p for p in params):
        return params
    return [p.replace("\x00", "\ufffd") if isinstance(p, str) else p for p in params]


def _rowcount(status: str) -> int:
    """Return the row count of a command status such as "UPDATE 3" or "INSERT 0 1"."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


@contextlib.contextmanager
def _mapped_errors() -> Any:
    """Turn driver failures into the errors the API layer answers."""
    try:
        yield
    except _RETRYABLE as exc:
        raise RetryRequest(_describe(exc)) from exc
    except asyncpg.exceptions.QueryCanceledError as exc:
        raise errors.DatabaseUnavailable(reason=f"statement timed out: {_describe(exc)}") from exc
    except _UNAVAILABLE as exc:
        raise errors.DatabaseUnavailable(reason=_describe(exc)) from exc


@contextlib.asynccontextmanager
async def _begun(tx: Any) -> AsyncIterator[None]:
    """Start an asyncpg transaction or savepoint; roll it back when the block raises, else
    commit it (database errors mapped as everywhere else)."""
    with _mapped_errors():
        await tx.start()
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            await tx.rollback()
        raise
    with _mapped_errors():
        await tx.commit()


class PostgresStore:
    """A pool of connections to one PostgreSQL database."""

    name = "store"
    requires: tuple[str, ...] = ()
    dialect: Dialect = "postgresql"

    def __init__(self, config: StoreConfig, migrations: Sequence[Migration]) -> None:
        self._url = config.url
        self._pool_size = max(2, config.pool_size)
        self._timeout = config.connect_timeout_s
        self._retention = config.change_retention_s
        self._migrations = list(migrations)
        self._pool: asyncpg.Pool | None = None
        self._sql: dict[str, str] = {}
        self._pruner: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._positions = Positions()
        self.commits = 0
        self.transactions = 0
        self.writers_to_come: Callable[[int], int] | None = None  # no group commit here

    # ---- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        """Connect (waiting up to connect_timeout_s), migrate and start pruning."""
        with _mapped_errors():
            self._pool = await asyncpg.create_pool(
                self._url,
                min_size=1,
                max_size=self._pool_size,
                timeout=self._timeout,
                command_timeout=max(30.0, self._timeout),
                # Statements are prepared per connection and cached by asyncpg.
                statement_cache_size=1024,
            )
            await self._migrate()
            self._positions.note(await feed.position(self))
        self._pruner = asyncio.create_task(
            changes.prune_forever(self, self._retention), name="store-prune-changes"
        )
        self._poller = asyncio.create_task(self._poll_positions(), name="store-poll-changes")

    async def stop(self) -> None:
        """Stop pruning and close the pool (in-flight transactions have finished)."""
        for task in (self._pruner, self._poller):
            await cancel(task)
        if self._pool is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(10):
                    await self._pool.close()
            self._pool = None

    @property
    def url(self) -> str:
        """Return the database URL (with its password)."""
        return self._url

    # ---- statements ------------------------------------------------------------------
    def _prepare(self, sql: str) -> str:
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = translate(sql)
        return text

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """The ambient transaction's connection, else one from the pool (autocommit)."""
        txn = _CURRENT.get()
        if txn is not None and txn.conn is not None:
            yield txn.conn
            return
        pool = self._pool
        if pool is None:
            raise errors.DatabaseUnavailable(reason="the store is not started")
        with _mapped_errors():
            conn = await pool.acquire(timeout=self._timeout)
        try:
            yield conn
        finally:
            await pool.release(conn)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""
        async with self._connection() as conn:
            with _mapped_errors():
                return _rowcount(await conn.execute(self._prepare(sql), *_args(params)))

    async def fetch(self, sql: str, params: Sequence[Any] = (), *, long: bool = False) -> list[Row]:
        """Return every row (the server does the work: `long` changes nothing here)."""
        async with self._connection() as conn:
            with _mapped_errors():
                return [tuple(r) for r in await conn.fetch(self._prepare(sql), *_args(params))]

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Return the first row, or None."""
        async with self._connection() as conn:
            with _mapped_errors():
                row = await conn.fetchrow(self._prepare(sql), *_args(params))
        return None if row is None else tuple(row)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Return the first column of the first row, or None."""
        async with self._connection() as conn:
            with _mapped_errors():
                return await conn.fetchval(self._prepare(sql), *_args(params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement per row of parameters (pipelined)."""
        args = [tuple(_args(r)) for r in rows]
        if not args:
            return
        async with self._connection() as conn:
            with _mapped_errors():
                await conn.executemany(self._prepare(sql), args)

    async def lock(self, key: str, shared: bool = False) -> None:
        """Hold an advisory lock named `key` until the ambient transaction ends (outside a
        transaction there is nothing to protect: no lock)."""
        txn = _CURRENT.get()
        if txn is None or txn.conn is None:
            return
        with _mapped_errors():
            await txn.conn.execute(_SHARED_LOCK_SQL if shared else _LOCK_SQL, key)

    # ---- transactions ----------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Open a READ COMMITTED transaction; a nested call is a savepoint.

        After-commit callbacks run in order once the outermost transaction commits; on
        an exception the (inner) work and its callbacks are dropped.
        """
        current = _CURRENT.get()
        if current is not None:
            mark, writes = len(current.after_commit), len(current.before_commit)
            try:
                async with _begun(current.conn.transaction()):
                    yield current
            except BaseException:
                del current.after_commit[mark:]
                del current.before_commit[writes:]
                raise
            return
        async with self._connection() as conn:
            txn = Transaction(conn)
            token = _CURRENT.set(txn)
            try:
                async with _begun(conn.transaction()):
                    yield txn
                    await run_before_commit(txn)
            finally:
                _CURRENT.reset(token)
        self.commits += 1
        self.transactions += 1
        for callback in txn.after_commit:
            try:
                callback()
            except Exception:  # one failing callback must not starve the rest
                _LOGGER.exception("after-commit callback %r failed", callback)
        if txn.recorded:
            await self._refresh_position()

    # ---- the change record's positions -----------------------------------------------
    @property
    def change_seq(self) -> int:
        """Return the newest change-record position this process knows (feed.py)."""
        return self._positions.position

    async def _refresh_position(self) -> None:
        try:
            position = await feed.position(self)
        except errors.DatabaseUnavailable:
            return  # the next commit or reader tries again
        self._positions.note(position)

    async def _poll_positions(self) -> None:
        """Notice the other processes' commits (this process's wake readers at once)."""
        while True:
            await asyncio.sleep(POLL_S)
            await self._refresh_position()

    async def wait_for_change(self, after: int, timeout: float | None = None) -> bool:
        """Wait until the known position passes `after`; False on timeout."""
        return await self._positions.wait(after, timeout)

    # ---- migrations ------------------------------------------------------------------
    async def _migrate(self) -> None:
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"
                )
                version = await conn.fetchval("SELECT MAX(version) FROM schema_version") or 0
                for number, migration in enumerate(self._migrations[version:], start=version + 1):
                    ddl = Ddl("postgresql")
                    migration(ddl)
                    async with conn.transaction():
                        for statement in ddl.statements:
                            await conn.execute(statement)
                        await conn.execute("INSERT INTO schema_version VALUES ($1)", number)
                    _LOGGER.info("database migrated to schema version %d", number)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
