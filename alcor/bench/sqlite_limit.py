"""The SQLite limit with alcor's own schema: ports per second, one per commit and in bulk.

How the rows are built: by replaying what a real port create wrote. The benchmark's own
`alcor serve` creates one port while this module snapshots its database file before and
after (a read-only connection; WAL readers see each commit). The difference is exactly the
rows that create inserted (the port, its IP allocation, MAC, security-group link and
change-record row) and the rows it changed (the subnet's free range). They are then
written again and again into a copy of the schema (the real migrations' `CREATE`
statements, read from that file), each time with fresh values for the keys the create
minted (random where alcor mints them at random: ids and MACs), under the store's writer
pragmas.

Why not call the repo functions: the rows come from the code that really runs, whatever it
becomes (the store is moving to an async database interface), and the replay stays plain
SQLite, so the figure is the machine's and not alcor's. What it leaves out on purpose: the
reads (network, subnet, quota lookups) and the savepoints, which are alcor's own cost.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Rows = dict[str, set[tuple[Any, ...]]]

# The store's writer connection (alcor/store/store.py): WAL without fsync per commit, and
# no automatic checkpoint inside a commit.
WRITER_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
    "PRAGMA wal_autocheckpoint=0",
)


@contextlib.contextmanager
def _read_only(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def _column(conn: sqlite3.Connection, sql: str) -> list[Any]:
    return [value for (value,) in conn.execute(sql)]


def snapshot(db_path: Path) -> Rows:
    """Return every row of every table of a live database (read-only)."""
    with _read_only(db_path) as conn:
        tables = _column(
            conn, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return {t: set(conn.execute(f'SELECT * FROM "{t}"')) for t in tables}


@dataclass
class _Table:
    """What one port create did to one table."""

    name: str
    columns: list[str]
    key: list[int]  # primary-key column positions
    auto_key: bool  # INTEGER PRIMARY KEY: SQLite assigns it
    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    # (row before, row after): the create changed an existing row (even its key)
    changes: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = field(default_factory=list)


@dataclass
class PortWrites:
    """The writes of one port create, ready to be replayed with fresh keys."""

    schema: list[str]
    before: Rows
    tables: list[_Table]
    minted: list[Any]  # values the create introduced into a key (ids, MAC, IP keys)

    def rows_written(self) -> int:
        """Return how many rows one port create inserts or changes."""
        return sum(len(t.inserts) + len(t.changes) for t in self.tables)


def capture(db_path: Path, before: Rows, after: Rows) -> PortWrites:
    """Return the writes between two snapshots of `db_path` (one port create)."""
    with _read_only(db_path) as conn:
        schema = _column(
            conn,
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY type = 'table' DESC, rowid",
        )
        tables = [_diff(conn, name, before.get(name, set()), rows) for name, rows in after.items()]
    tables = [t for t in tables if t.inserts or t.changes]
    minted = sorted(
        {v for t in tables for v in _minted(t, before.get(t.name, set()))},
        key=len,
        reverse=True,  # replace longer values first: one may contain another
    )
    return PortWrites(schema, before, tables, minted)


def _minted(table: _Table, old: set[tuple[Any, ...]]) -> set[str]:
    """Return the key values of a table's new rows that no row of that column had before.

    A port id, MAC or IP key is minted; the network, subnet and security-group ids that a
    port refers to are not (the first port of a network minted those, hence a warm-up port
    before the snapshot).
    """
    new_rows = table.inserts + [after for _, after in table.changes]
    out = set()
    for i in table.key:
        seen = {row[i] for row in old}
        out |= {row[i] for row in new_rows if isinstance(row[i], str) and row[i] not in seen}
    return out


def _diff(conn: sqlite3.Connection, name: str, old: set[Any], new: set[Any]) -> _Table:
    info = list(conn.execute(f'PRAGMA table_info("{name}")'))
    key = [cid for cid, _, _, _, _, pk in sorted(info, key=lambda r: r[5]) if pk]
    auto_key = len(key) == 1 and info[key[0]][2].upper() == "INTEGER"
    table = _Table(name, [r[1] for r in info], key, auto_key)
    gone, added = sorted(old - new), sorted(new - old)
    # A changed row keeps its first key column (a free range keeps its pool, an updated
    # row its id); the other new rows are inserts.
    for row in added:
        match = next((g for g in gone if key and g[key[0]] == row[key[0]]), None)
        if match is not None and not auto_key:
            gone.remove(match)
            table.changes.append((match, row))
        else:
            table.inserts.append(row)
    return table


# Keys alcor mints at random (uuid4 ids, MACs with a random tail) get a random value of
# the same shape in each copy: an index takes a random key on a random page, and a
# suffixed copy ("<id>#7") would land next to the last one, on a page already in the
# cache and in the commit (measured: the bulk limit 51k ports/s with suffixes, 37k with
# random ids). Keys minted in order (an IP key: the lowest free address) keep the suffix.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MAC = re.compile(r"([0-9a-f]{2}:)+[0-9a-f]{2}")


class _Minter:
    """Fresh values for the minted keys of each copy, never the same random one twice."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def keys(self, minted: list[Any], n: int) -> list[tuple[str, str]]:
        """Return (minted key, its value in copy `n`) for every minted key."""
        return [(old, self._copy_of(old, n)) for old in minted]

    def _copy_of(self, old: str, n: int) -> str:
        is_id = _UUID.fullmatch(old) is not None
        if not (is_id or _MAC.fullmatch(old)):
            return f"{old}#{n}"
        while True:  # a random MAC tail has 24 bits: ten thousand copies meet about 3 times
            new = str(uuid.uuid4()) if is_id else self._random_mac(old)
            if new not in self._taken:
                self._taken.add(new)
                return new

    @staticmethod
    def _random_mac(old: str) -> str:
        octets = old.split(":")
        return ":".join([*octets[:3], *(f"{b:02x}" for b in os.urandom(len(octets) - 3))])


def _fresh(value: Any, keys: list[tuple[str, str]]) -> Any:
    """Return `value` with every minted key in it replaced by its copy's value."""
    if isinstance(value, str):
        for old, new in keys:
            if old in value:
                value = value.replace(old, new)
    elif isinstance(value, bytes):
        for old, new in keys:
            if old.encode() in value:
                value = value.replace(old.encode(), new.encode())
    return value


class Replay:
    """A fresh database with alcor's schema and the rows before the create, to write into."""

    def __init__(self, writes: PortWrites) -> None:
        self._writes = writes
        self._tmp = tempfile.TemporaryDirectory(prefix="alcor-bench-sqlite-")
        self.conn = sqlite3.connect(Path(self._tmp.name) / "limit.db", isolation_level=None)
        for pragma in WRITER_PRAGMAS:
            self.conn.execute(pragma)
        for sql in writes.schema:
            self.conn.execute(sql)
        self.conn.execute("BEGIN")
        for name, rows in writes.before.items():
            if rows:
                marks = ", ".join("?" * len(next(iter(rows))))
                self.conn.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
        self.conn.execute("COMMIT")
        self._copies = 0
        self._minter = _Minter()
        # the current key of each changed row (its key moves on with every copy)
        self._current = {
            (t.name, i): before for t in writes.tables for i, (before, _) in enumerate(t.changes)
        }

    def close(self) -> None:
        """Close and remove the database."""
        self.conn.close()
        self._tmp.cleanup()

    def ports(self, count: int, per_commit: int) -> float:
        """Write `count` ports, `per_commit` in each transaction; return the seconds taken.

        Every statement and its values are prepared first: only SQLite's work is timed.
        """
        commits = [self._statements(per_commit) for _ in range(0, count, per_commit)]
        # The store checkpoints in the background once the WAL passes 8 MiB; here between
        # rounds, off the clock, so the log does not grow without end either.
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        execute, executemany = self.conn.execute, self.conn.executemany
        started = time.perf_counter()
        for statements in commits:
            execute("BEGIN")
            for sql, values in statements:
                if isinstance(values, list):
                    executemany(sql, values)
                else:
                    execute(sql, values)
            execute("COMMIT")
        return time.perf_counter() - started

    def _statements(self, copies: int) -> list[tuple[str, Any]]:
        """Return the (sql, values or list of values) of `copies` more ports in one commit."""
        first = self._copies
        self._copies += copies
        minted = self._writes.minted
        keys = {n: self._minter.keys(minted, n) for n in range(first, first + copies)}
        change_keys = self._minter.keys(minted, self._copies)  # one copy for the changed rows
        out: list[tuple[str, Any]] = []
        for table in self._writes.tables:
            if table.inserts:
                keep = [
                    i for i in range(len(table.columns)) if not (table.auto_key and i in table.key)
                ]
                names = ", ".join(f'"{table.columns[i]}"' for i in keep)
                sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(keep))})'
                values = [
                    tuple(_fresh(row[i], keys[n]) for i in keep)
                    for n in range(first, first + copies)
                    for row in table.inserts
                ]
                out.append((sql, values[0] if len(values) == 1 else values))
            for i, (_, after) in enumerate(table.changes):
                # A bulk create changes such a row once (ranges are taken once per subnet).
                row = tuple(_fresh(v, change_keys) for v in after)
                out.append(self._update(table, self._current[(table.name, i)], row))
                self._current[(table.name, i)] = row
        return out

    @staticmethod
    def _update(table: _Table, old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[str, Any]:
        sets = ", ".join(f'"{c}" = ?' for c in table.columns)
        where = " AND ".join(f'"{table.columns[i]}" = ?' for i in table.key)
        return f'UPDATE "{table.name}" SET {sets} WHERE {where}', (
            *new,
            *(old[i] for i in table.key),
        )


def measure(
    writes: PortWrites,
    single: int,
    batches: int,
    batch: int,
    tick: Callable[[], None],
    rounds: int = 3,
) -> tuple[float, float]:
    """Return the median over `rounds` of (ports/s one per commit, ports/s `batch` per commit).

    A round takes a second or less, so one scheduling hiccup of a shared machine would move
    a single measurement by a lot; the median of interleaved rounds does not move with it.
    """
    replay = Replay(writes)
    singles, bulks = [], []
    try:
        for _ in range(rounds):
            singles.append(single / replay.ports(single, 1))
            bulks.append(batches * batch / replay.ports(batches * batch, batch))
            tick()
    finally:
        replay.close()
    return statistics.median(singles), statistics.median(bulks)
