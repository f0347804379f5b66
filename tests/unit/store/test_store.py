"""The store: ambient nested transactions, after-commit callbacks, persistence, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence

import pytest

from alcor.config import StoreConfig
from alcor.store import current_transaction
from alcor.store.ddl import Ddl
from alcor.store.store import SqliteStore


def _items(ddl: Ddl) -> None:
    ddl.table("items", {"name": str}, pk="name")


@pytest.fixture
def make_store(tmp_path) -> Callable[..., SqliteStore]:
    """Return a factory of stores on one SQLite file in tmp_path (not started)."""

    def factory(migrations: Sequence = (_items,)) -> SqliteStore:
        return SqliteStore(StoreConfig(path=str(tmp_path / "store.db")), list(migrations))

    return factory


@pytest.fixture
async def store(make_store) -> AsyncIterator[SqliteStore]:
    """A started store with one `items` table."""
    s = make_store()
    await s.start()
    yield s
    await s.stop()


async def _names(store: SqliteStore) -> list[str]:
    return [row[0] for row in await store.fetch("SELECT name FROM items ORDER BY name")]


async def _add(store: SqliteStore, name: str) -> None:
    await store.execute("INSERT INTO items (name) VALUES (?)", [name])


async def test_transaction_commits_on_success(store):
    """Work done inside a transaction is visible to readers after it ends."""
    async with store.transaction():
        await _add(store, "a")
    assert await _names(store) == ["a"]


async def test_transaction_rolls_back_on_exception(store):
    """An exception inside the outermost transaction leaves nothing behind."""
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await _add(store, "a")
            raise RuntimeError("boom")
    assert await _names(store) == []


async def test_nested_transaction_failure_drops_only_inner_work(store):
    """A failing nested transaction is a savepoint: the outer work still commits."""
    async with store.transaction():
        await _add(store, "outer")
        with pytest.raises(RuntimeError):
            async with store.transaction():
                await _add(store, "inner")
                raise RuntimeError("inner fails")
        await _add(store, "outer2")
    assert await _names(store) == ["outer", "outer2"]


async def test_nested_transaction_joins_the_outer_one(store):
    """A nested transaction returns the same ambient transaction object."""
    async with store.transaction() as outer:
        async with store.transaction() as inner:
            assert inner is outer
            assert current_transaction() is outer
    assert current_transaction() is None


async def test_inner_success_is_undone_when_outer_fails(store):
    """A committed savepoint is still rolled back with the outermost transaction."""
    with pytest.raises(RuntimeError):
        async with store.transaction():
            async with store.transaction():
                await _add(store, "inner")
            raise RuntimeError("outer fails")
    assert await _names(store) == []


async def test_after_commit_callbacks_run_only_after_outermost_commit(store):
    """Callbacks registered at any depth run once, in order, after the outer commit."""
    ran: list[str] = []
    async with store.transaction() as txn:
        txn.after_commit.append(lambda: ran.append("outer"))
        async with store.transaction() as inner:
            inner.after_commit.append(lambda: ran.append("inner"))
        assert ran == []
    assert ran == ["outer", "inner"]


async def test_rolled_back_inner_transaction_drops_its_callbacks(store):
    """Callbacks of a failed savepoint are dropped; the outer ones still run."""
    ran: list[str] = []
    async with store.transaction() as txn:
        txn.after_commit.append(lambda: ran.append("kept"))
        with pytest.raises(RuntimeError):
            async with store.transaction() as inner:
                inner.after_commit.append(lambda: ran.append("dropped"))
                raise RuntimeError
        txn.after_commit.append(lambda: ran.append("later"))
    assert ran == ["kept", "later"]


async def test_outer_rollback_drops_every_callback(store):
    """Nothing registered in a transaction that rolls back ever runs."""
    ran: list[str] = []
    with pytest.raises(RuntimeError):
        async with store.transaction() as txn:
            txn.after_commit.append(lambda: ran.append("x"))
            raise RuntimeError
    assert ran == []


async def test_callbacks_see_no_ambient_transaction(store):
    """After-commit callbacks run outside the finished transaction."""
    seen: list[object] = []
    async with store.transaction() as txn:
        txn.after_commit.append(lambda: seen.append(current_transaction()))
    assert seen == [None]


async def test_readers_do_not_see_uncommitted_writes(store):
    """Another task reading during an open transaction sees only the last commit."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with store.transaction():
            await _add(store, "pending")
            entered.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await entered.wait()
    assert await _names(store) == []
    release.set()
    await task
    assert await _names(store) == ["pending"]


async def test_concurrent_transactions_are_serialised(store):
    """Two tasks' transactions never interleave: each sees the other's committed rows only."""
    order: list[str] = []
    first_in = asyncio.Event()
    go = asyncio.Event()

    async def first() -> None:
        async with store.transaction():
            order.append("first-start")
            first_in.set()
            await go.wait()
            await _add(store, "first")
            order.append("first-end")

    async def second() -> None:
        await first_in.wait()
        async with store.transaction():
            order.append("second-start")
            assert "first" in await _names(store)
            await _add(store, "second")

    t1, t2 = asyncio.create_task(first()), asyncio.create_task(second())
    await first_in.wait()
    await asyncio.sleep(0)  # let `second` reach the lock
    go.set()
    await asyncio.gather(t1, t2)
    assert order == ["first-start", "first-end", "second-start"]
    assert await _names(store) == ["first", "second"]


async def _add_in_transaction(
    store: SqliteStore, name: str, log: list[str] | None = None, fail: bool = False
) -> None:
    async with store.transaction() as txn:
        await _add(store, name)
        if log is not None:
            txn.after_commit.append(lambda: log.append(name))
        if fail:
            raise RuntimeError(name)


async def test_transactions_finishing_together_share_one_commit(store):
    """Group commit: ten concurrent transactions take fewer than ten COMMITs, all land."""
    before = store.commits
    log: list[str] = []
    names = [f"n{i}" for i in range(10)]
    await asyncio.gather(*(_add_in_transaction(store, n, log) for n in names))
    assert store.commits - before < len(names)
    assert store.transactions >= len(names)
    assert await _names(store) == sorted(names)
    assert log == names  # callbacks in transaction order, after the shared commit


async def _add_turns_apart(store: SqliteStore, names: list[str], turns: int) -> None:
    """Start one transaction per name, each `turns` loop turns after the previous one."""

    async def later(name: str, delay: int) -> None:
        for _ in range(delay):
            await asyncio.sleep(0)
        await _add_in_transaction(store, name)

    await asyncio.gather(*(later(n, i * turns) for i, n in enumerate(names)))


async def test_a_group_waits_a_few_turns_for_expected_writers(store):
    """With concurrent writers expected, transactions a few turns apart share one COMMIT."""
    names = ["w0", "w1", "w2", "w3"]
    store.writers_to_come = lambda members: len(names) - members
    before = store.commits
    await _add_turns_apart(store, names, turns=3)
    assert store.commits - before == 1
    assert await _names(store) == names


async def test_without_expected_writers_each_commits_at_once(store):
    """No writers to come (a lone client): a transaction does not wait for the next one."""
    names = ["s0", "s1", "s2"]
    store.writers_to_come = lambda members: 0
    before = store.commits
    await _add_turns_apart(store, names, turns=3)
    assert store.commits - before == len(names)


async def test_the_wait_for_writers_is_bounded(store):
    """Writers announced but never coming delay the COMMIT a few turns, not forever."""
    store.writers_to_come = lambda members: 100
    async with asyncio.timeout(5):
        await _add_in_transaction(store, "alone")
    assert await _names(store) == ["alone"]


async def test_a_failed_member_does_not_undo_its_group(store):
    """One transaction of a group raising rolls back only its own work."""
    results = await asyncio.gather(
        _add_in_transaction(store, "a"),
        _add_in_transaction(store, "bad", fail=True),
        _add_in_transaction(store, "c"),
        return_exceptions=True,
    )
    assert isinstance(results[1], RuntimeError)
    assert await _names(store) == ["a", "c"]


async def test_a_transaction_returns_only_after_its_commit(store):
    """When the outermost transaction returns, a reader connection sees its rows."""
    seen: list[tuple[str, list[str]]] = []

    async def add_then_read(name: str) -> None:
        await _add_in_transaction(store, name)
        seen.append((name, await _names(store)))

    await asyncio.gather(add_then_read("x"), add_then_read("y"))
    assert len(seen) == 2 and all(name in names for name, names in seen)


async def test_a_failing_callback_does_not_starve_the_others(store):
    """Every after-commit callback of a group runs even if an earlier one raises."""
    log: list[str] = []

    async def with_bad_callback() -> None:
        async with store.transaction() as txn:
            await _add(store, "bad-callback")
            txn.after_commit.append(lambda: 1 / 0)

    await asyncio.gather(with_bad_callback(), _add_in_transaction(store, "ok", log))
    assert log == ["ok"]
    assert await _names(store) == ["bad-callback", "ok"]


async def test_stop_commits_a_pending_group(make_store):
    """A group still waiting for its commit when the store stops is committed, not lost."""
    store = make_store()
    await store.start()
    task = asyncio.create_task(_add_in_transaction(store, "late"))
    while store._group is None:  # the transaction is done and waits for its commit
        await asyncio.sleep(0)
    await store.stop()
    await task
    reopened = make_store()
    await reopened.start()
    try:
        assert await _names(reopened) == ["late"]
    finally:
        await reopened.stop()


async def test_long_reads_run_in_a_thread_and_see_the_transaction(store):
    """A long read uses a read connection outside and the writer inside a transaction."""
    sql = "SELECT name FROM items ORDER BY name"
    async with store.transaction():
        await _add(store, "threaded")
        assert await store.fetch(sql, long=True) == [("threaded",)]
    assert await store.fetch(sql, long=True) == [("threaded",)]


async def test_data_survives_close_and_reopen(make_store):
    """Committed rows are on disk: a new store on the same file finds them."""
    first = make_store()
    await first.start()
    async with first.transaction():
        await _add(first, "persisted")
    await first.stop()
    second = make_store()
    await second.start()
    try:
        assert await _names(second) == ["persisted"]
    finally:
        await second.stop()


async def test_migrations_run_once_keyed_by_user_version(make_store):
    """Each migration runs once; a restart with one more runs only the new one."""
    calls: list[str] = []

    def m1(ddl: Ddl) -> None:
        calls.append("m1")
        _items(ddl)

    def m2(ddl: Ddl) -> None:
        calls.append("m2")
        ddl.sql("ALTER TABLE items ADD COLUMN colour TEXT")

    store = make_store([m1])
    await store.start()
    await store.stop()
    store = make_store([m1])
    await store.start()
    await store.stop()
    assert calls == ["m1"]
    store = make_store([m1, m2])
    await store.start()
    try:
        assert calls == ["m1", "m2"]
        assert await store.fetchval("PRAGMA user_version") == 2
        assert "colour" in {row[1] for row in await store.fetch("PRAGMA table_info(items)")}
    finally:
        await store.stop()


async def test_failed_migration_is_rolled_back_and_not_recorded(make_store):
    """A migration that raises leaves neither its changes nor a bumped user_version."""

    def broken(ddl: Ddl) -> None:
        _items(ddl)
        ddl.sql("INSERT INTO no_such_table VALUES (1)")

    store = make_store([broken])
    with pytest.raises(sqlite3.OperationalError):
        await store.start()
    await store.stop()
    store = make_store([_items])
    await store.start()
    try:
        assert await store.fetchval("PRAGMA user_version") == 1
        assert await _names(store) == []
    finally:
        await store.stop()


async def test_store_uses_wal_journal(store):
    """The database file is in WAL mode."""
    assert await store.fetchval("PRAGMA journal_mode") == "wal"


async def test_memory_store_shares_one_connection():
    """An in-memory store works: readers see what the writer committed."""
    store = SqliteStore(StoreConfig(path=":memory:"), [_items])
    await store.start()
    try:
        async with store.transaction():
            await _add(store, "m")
        assert await _names(store) == ["m"]
    finally:
        await store.stop()


async def test_the_write_ahead_log_shrinks_back_to_its_limit(tmp_path):
    """Past a checkpoint the log restarts and is truncated to store.wal_limit_mb (it used to
    keep its largest size for ever)."""
    config = StoreConfig(path=str(tmp_path / "wal.db"), checkpoint_interval_s=0.02, wal_limit_mb=1)
    store = SqliteStore(config, [_items])
    await store.start()
    wal = tmp_path / "wal.db-wal"
    try:
        blob = "x" * 4096
        for start in range(0, 3000, 500):  # about 12 MB of log, past the checkpoint threshold
            async with store.transaction():
                for i in range(start, start + 500):
                    await _add(store, f"{i:05d}{blob}")
        assert wal.stat().st_size > 8 << 20
        async with asyncio.timeout(20):
            # Each small write after a checkpoint lets the writer restart (and cut) the log.
            while wal.stat().st_size > 1 << 20:
                async with store.transaction():
                    await _add(
                        store, f"tick-{wal.stat().st_size}-{asyncio.get_running_loop().time()}"
                    )
                await asyncio.sleep(0.02)
    finally:
        await store.stop()
    assert len(_names_of(tmp_path / "wal.db")) > 3000


def _names_of(path) -> list[str]:
    conn = sqlite3.connect(str(path))
    try:
        return [row[0] for row in conn.execute("SELECT name FROM items")]
    finally:
        conn.close()
