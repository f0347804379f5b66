"""The store: ambient nested transactions, after-commit callbacks, persistence, migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
import sqlite_utils

from alcor.config import StoreConfig
from alcor.store import Store, current_transaction


def _items(db: sqlite_utils.Database) -> None:
    db["items"].create({"name": str}, pk="name")


@pytest.fixture
def make_store(tmp_path) -> Callable[..., Store]:
    """Return a factory of stores on one SQLite file in tmp_path (not started)."""

    def factory(migrations: Sequence = (_items,)) -> Store:
        return Store(StoreConfig(path=str(tmp_path / "store.db")), list(migrations))

    return factory


@pytest.fixture
async def store(make_store) -> AsyncIterator[Store]:
    """A started store with one `items` table."""
    s = make_store()
    await s.start()
    yield s
    await s.stop()


def _names(store: Store) -> list[str]:
    return [row[0] for row in store.db.execute("SELECT name FROM items ORDER BY name")]


def _add(store: Store, name: str) -> None:
    store.db.execute("INSERT INTO items (name) VALUES (?)", [name])


async def test_transaction_commits_on_success(store):
    """Work done inside a transaction is visible to readers after it ends."""
    async with store.transaction():
        _add(store, "a")
    assert _names(store) == ["a"]


async def test_transaction_rolls_back_on_exception(store):
    """An exception inside the outermost transaction leaves nothing behind."""
    with pytest.raises(RuntimeError):
        async with store.transaction():
            _add(store, "a")
            raise RuntimeError("boom")
    assert _names(store) == []


async def test_nested_transaction_failure_drops_only_inner_work(store):
    """A failing nested transaction is a savepoint: the outer work still commits."""
    async with store.transaction():
        _add(store, "outer")
        with pytest.raises(RuntimeError):
            async with store.transaction():
                _add(store, "inner")
                raise RuntimeError("inner fails")
        _add(store, "outer2")
    assert _names(store) == ["outer", "outer2"]


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
                _add(store, "inner")
            raise RuntimeError("outer fails")
    assert _names(store) == []


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
            _add(store, "pending")
            entered.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await entered.wait()
    assert _names(store) == []
    release.set()
    await task
    assert _names(store) == ["pending"]


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
            _add(store, "first")
            order.append("first-end")

    async def second() -> None:
        await first_in.wait()
        async with store.transaction():
            order.append("second-start")
            assert "first" in _names(store)
            _add(store, "second")

    t1, t2 = asyncio.create_task(first()), asyncio.create_task(second())
    await first_in.wait()
    await asyncio.sleep(0)  # let `second` reach the lock
    go.set()
    await asyncio.gather(t1, t2)
    assert order == ["first-start", "first-end", "second-start"]
    assert _names(store) == ["first", "second"]


async def _add_in_transaction(
    store: Store, name: str, log: list[str] | None = None, fail: bool = False
) -> None:
    async with store.transaction() as txn:
        _add(store, name)
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
    assert _names(store) == sorted(names)
    assert log == names  # callbacks in transaction order, after the shared commit


async def test_a_failed_member_does_not_undo_its_group(store):
    """One transaction of a group raising rolls back only its own work."""
    results = await asyncio.gather(
        _add_in_transaction(store, "a"),
        _add_in_transaction(store, "bad", fail=True),
        _add_in_transaction(store, "c"),
        return_exceptions=True,
    )
    assert isinstance(results[1], RuntimeError)
    assert _names(store) == ["a", "c"]


async def test_a_transaction_returns_only_after_its_commit(store):
    """When the outermost transaction returns, a reader connection sees its rows."""
    seen: list[tuple[str, list[str]]] = []

    async def add_then_read(name: str) -> None:
        await _add_in_transaction(store, name)
        seen.append((name, _names(store)))

    await asyncio.gather(add_then_read("x"), add_then_read("y"))
    assert len(seen) == 2 and all(name in names for name, names in seen)


async def test_a_failing_callback_does_not_starve_the_others(store):
    """Every after-commit callback of a group runs even if an earlier one raises."""
    log: list[str] = []

    async def with_bad_callback() -> None:
        async with store.transaction() as txn:
            _add(store, "bad-callback")
            txn.after_commit.append(lambda: 1 / 0)

    await asyncio.gather(with_bad_callback(), _add_in_transaction(store, "ok", log))
    assert log == ["ok"]
    assert _names(store) == ["bad-callback", "ok"]


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
        assert _names(reopened) == ["late"]
    finally:
        await reopened.stop()


async def test_run_in_thread_reads_committed_data_and_writes_inside_transactions(store):
    """run_in_thread uses a read connection outside and the writer inside a transaction."""

    def add(db: sqlite_utils.Database, name: str) -> None:
        db.execute("INSERT INTO items (name) VALUES (?)", [name])

    def names(db: sqlite_utils.Database) -> list[str]:
        return [r[0] for r in db.execute("SELECT name FROM items ORDER BY name")]

    async with store.transaction():
        await store.run_in_thread(add, "threaded")
        assert await store.run_in_thread(names) == ["threaded"]
    assert await store.run_in_thread(names) == ["threaded"]


async def test_data_survives_close_and_reopen(make_store):
    """Committed rows are on disk: a new store on the same file finds them."""
    first = make_store()
    await first.start()
    async with first.transaction():
        _add(first, "persisted")
    await first.stop()
    second = make_store()
    await second.start()
    try:
        assert _names(second) == ["persisted"]
    finally:
        await second.stop()


async def test_migrations_run_once_keyed_by_user_version(make_store):
    """Each migration runs once; a restart with one more runs only the new one."""
    calls: list[str] = []

    def m1(db: sqlite_utils.Database) -> None:
        calls.append("m1")
        _items(db)

    def m2(db: sqlite_utils.Database) -> None:
        calls.append("m2")
        db["items"].add_column("colour", str)

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
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert "colour" in store.db["items"].columns_dict
    finally:
        await store.stop()


async def test_failed_migration_is_rolled_back_and_not_recorded(make_store):
    """A migration that raises leaves neither its changes nor a bumped user_version."""

    def broken(db: sqlite_utils.Database) -> None:
        _items(db)
        raise RuntimeError("broken migration")

    store = make_store([broken])
    with pytest.raises(RuntimeError):
        await store.start()
    await store.stop()
    store = make_store([_items])
    await store.start()
    try:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert _names(store) == []
    finally:
        await store.stop()


async def test_store_uses_wal_journal(store):
    """The database file is in WAL mode."""
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_memory_store_shares_one_connection():
    """An in-memory store works: readers see what the writer committed."""
    store = Store(StoreConfig(path=":memory:"), [_items])
    await store.start()
    try:
        async with store.transaction():
            _add(store, "m")
        assert _names(store) == ["m"]
    finally:
        await store.stop()


async def test_the_write_ahead_log_shrinks_back_to_its_limit(tmp_path):
    """Past a checkpoint the log restarts and is truncated to store.wal_limit_mb (it used to
    keep its largest size for ever)."""
    config = StoreConfig(path=str(tmp_path / "wal.db"), checkpoint_interval_s=0.02, wal_limit_mb=1)
    store = Store(config, [_items])
    await store.start()
    wal = tmp_path / "wal.db-wal"
    try:
        blob = "x" * 4096
        for start in range(0, 3000, 500):  # about 12 MB of log, past the checkpoint threshold
            async with store.transaction():
                for i in range(start, start + 500):
                    _add(store, f"{i:05d}{blob}")
        assert wal.stat().st_size > 8 << 20
        async with asyncio.timeout(20):
            # Each small write after a checkpoint lets the writer restart (and cut) the log.
            while wal.stat().st_size > 1 << 20:
                async with store.transaction():
                    _add(store, f"tick-{wal.stat().st_size}-{asyncio.get_running_loop().time()}")
                await asyncio.sleep(0.02)
    finally:
        await store.stop()
    assert len(_names_of(tmp_path / "wal.db")) > 3000


def _names_of(path) -> list[str]:
    db = sqlite_utils.Database(str(path))
    try:
        return [row[0] for row in db.execute("SELECT name FROM items")]
    finally:
        db.close()
