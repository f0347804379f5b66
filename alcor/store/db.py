"""The one async database interface every repository and manager uses.

Two implementations: SQLite (alcor/store/store.py, the embedded default: one writer on the
event loop thread, group commit) and PostgreSQL (alcor/store/postgres.py, asyncpg, several
processes on one database). `open_store` picks one from `[store] url`.

SQL is written once, in the subset both engines speak: `?` placeholders (translated for
PostgreSQL), RETURNING, ON CONFLICT, IS [NOT] DISTINCT FROM, NULLS FIRST/LAST, TRUE/FALSE.
Only DDL (alcor/store/schema.py) and locking (`lock`) differ per dialect.

Transactions are ambient: `async with store.transaction()` makes every statement of the
task (and of the bus commands it awaits) run in it; a nested call is a savepoint. Rows are
plain tuples on both engines.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence, Sized
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from typing import Any, Literal, Protocol, TypeVar

from prometheus_client import Counter

from alcor import errors
from alcor.config import StoreConfig

Row = tuple[Any, ...]
Dialect = Literal["sqlite", "postgresql"]
T = TypeVar("T")

RETRIES = Counter(
    "alcor_store_retries_total", "Requests run again after losing a race with another process"
)
_CURRENT: ContextVar[Transaction | None] = ContextVar("alcor_transaction", default=None)


class Transaction:
    """The ambient write transaction: collects callbacks to run after the outermost commit.

    `conn` is the engine connection the transaction runs on (PostgreSQL; None on SQLite,
    whose single writer is implied).
    """

    __slots__ = ("after_commit", "before_commit", "conn", "recorded")

    def __init__(self, conn: Any = None) -> None:
        self.after_commit: list[Callable[[], None]] = []
        # Writes that belong to the transaction's changes (Bus.write_with), run last in it.
        self.before_commit: list[Callable[[], Awaitable[None]]] = []
        self.conn = conn
        self.recorded = False  # a change-record row was written (alcor/store/changes.py)


async def run_before_commit(txn: Transaction) -> None:
    """Run the transaction's before-commit writes (those they add too), in order."""
    while txn.before_commit:
        write = txn.before_commit.pop(0)
        await write()


def current_transaction() -> Transaction | None:
    """Return the transaction this task is inside, if any."""
    return _CURRENT.get()


class RetryRequest(Exception):
    """A transaction lost a race with another process (serialization failure, deadlock,
    or a unique allocation taken meanwhile): the whole request is run again.

    Never raised by the SQLite store, whose single writer cannot race.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Store(Protocol):
    """What repositories and managers may ask of the database."""

    name: str
    requires: tuple[str, ...]
    dialect: Dialect
    commits: int
    transactions: int
    # The API's estimate of write requests that may soon join a commit of n transactions:
    # a store that groups commits waits a little for them (None: no API, none to wait for).
    writers_to_come: Callable[[int], int] | None

    async def start(self) -> None:
        """Connect, migrate the schema and start background work."""

    async def stop(self) -> None:
        """Finish the running transaction and disconnect."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return how many rows it changed."""

    async def fetch(self, sql: str, params: Sequence[Any] = (), *, long: bool = False) -> list[Row]:
        """Return every row of a query (`long`: may take long, keep it off the loop)."""

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Return the first row of a query, or None."""

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Return the first column of the first row (None when there is no row)."""

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open the ambient write transaction; a nested call is a savepoint."""

    async def lock(self, key: str, shared: bool = False) -> None:
        """Hold a lock named `key` until the transaction ends (a check-then-write that
        must not interleave with another process's; free with one writer).

        `shared` locks exclude only exclusive ones: children being created under a parent
        (shared) against the parent's deletion (exclusive).
        """

    @property
    def change_seq(self) -> int:
        """Return the newest change-record position this process knows (feed.py)."""

    async def wait_for_change(self, after: int, timeout: float | None = None) -> bool:
        """Wait until the position passes `after`; False on timeout."""


class Positions:
    """The newest change-record position a store knows, and the readers waiting past one."""

    def __init__(self) -> None:
        self.position = 0
        self._waiters: list[asyncio.Future[None]] = []

    def note(self, position: int) -> None:
        """Move to `position` (never back) and wake the readers it passes."""
        if position <= self.position:
            return
        self.position = position
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, after: int, timeout: float | None) -> bool:
        """Wait until the position passes `after`; False on timeout."""
        if self.position > after:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            # Not wait_for: on Python 3.11 it returns the result when the waiter completes
            # in the turn the task is cancelled, and the cancelled reader runs on (a stop
            # then waits out its timeout). asyncio.timeout lets the cancellation win.
            async with asyncio.timeout(timeout):
                await waiter
        except TimeoutError:
            return False
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


# Neutron retries a request 10 times on DBDeadlock/DBDuplicateEntry, with jittered backoff.
MAX_ATTEMPTS = 10


async def with_retries(call: Callable[[], Awaitable[T]], attempts: int = MAX_ATTEMPTS) -> T:
    """Run `call` again from the start while it raises RetryRequest (a lost race with
    another process); after `attempts` the last loss is a 409 ConcurrentModification."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryRequest as exc:
            if attempt == attempts:
                raise errors.ConcurrentModification(attempts=attempts, reason=exc.reason) from exc
            RETRIES.inc()
            await asyncio.sleep(random.uniform(0, min(0.5, 0.005 * 2**attempt)))
    raise AssertionError("unreachable")


def open_store(config: StoreConfig, migrations: Sequence[Any]) -> Store:
    """Return the store `config` names: PostgreSQL for a postgresql:// url, else SQLite."""
    if config.url.startswith(("postgresql://", "postgres://")):
        from alcor.store.postgres import PostgresStore

        return PostgresStore(config, migrations)
    from alcor.store.store import SqliteStore

    return SqliteStore(config, migrations)


async def fetch_column(db: Store, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Return the first column of every row."""
    return [row[0] for row in await db.fetch(sql, params)]


def marks(values: Sized) -> str:
    """Return `?, ?, ...` for an IN list of `values` (never empty: callers check)."""
    return ", ".join(["?"] * len(values))
