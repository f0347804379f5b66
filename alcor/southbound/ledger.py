"""The durable per-host ledger: what each host may hold, so a crash loses nothing.

Two tables (alcor/store/schema.py, migration `southbound_ledger`):

* `sb_ledger(node_id, kind, key)` -> last revision sent, present or DELETE, acked revision,
  last status, attempts, last error. One row per key a host may hold, for every kind but
  NEIGHBOR (their volume is hosts x ports). A row is written, and committed, BEFORE the
  first push that carries its key to the host; it goes away only when the host answered
  the key's DELETE. After a restart every row is a state the host may hold: the ones no
  longer wanted are deleted, the others re-sent unless acked at the current revision.
* `sb_hosts(node_id)` -> `cursor_seq`: the change-record seq through which every change
  was delivered to the host (advanced when the host is idle with no refused neighbor).
  Neighbors a host may hold are those of the ports of the VPCs in its ledger, plus the
  ports deleted after its cursor (read from the change record).

Acks, statuses and row deletions are written lazily in batches: losing them in a crash
only means a harmless re-send. What must be durable before a push: "may hold" for a key
entering a host, and the DELETE of a key a host holds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from alcor.lifecycle import cancel
from alcor.southbound.view import NEIGHBOR, Key
from alcor.store import Store
from alcor.store.db import marks

_LOGGER = logging.getLogger(__name__)
FLUSH_DELAY_S = 0.05


_UPSERT = (
    "INSERT INTO sb_ledger (node_id, kind, key, rev, present, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (node_id, kind, key) DO UPDATE SET "
    "rev = excluded.rev, present = excluded.present, updated_at = excluded.updated_at"
)


@dataclass
class Row:
    """One ledger row as loaded at start."""

    rev: int
    present: bool
    acked_rev: int | None
    status: str | None
    attempts: int
    last_error: str | None


@dataclass
class HostLedger:
    """The durable state of one host, as loaded at start."""

    rows: dict[Key, Row] = field(default_factory=dict)
    cursor: int | None = None


async def load(db: Store, node_ids: Sequence[str] | None = None) -> dict[str, HostLedger]:
    """Return every host's ledger rows and cursor (only of `node_ids`, if given)."""
    hosts: dict[str, HostLedger] = {}
    where, params = "", list(node_ids or ())
    if node_ids is not None:
        if not node_ids:
            return hosts
        where = f" WHERE node_id IN ({marks(node_ids)})"
    for node_id, kind, key, rev, present, acked, status, attempts, error in await db.fetch(
        "SELECT node_id, kind, key, rev, present, acked_rev, status, attempts, last_error "
        "FROM sb_ledger" + where,
        params,
    ):
        hosts.setdefault(node_id, HostLedger()).rows[(kind, key)] = Row(
            rev, bool(present), acked, status, attempts, error
        )
    for node_id, cursor in await db.fetch(
        "SELECT node_id, cursor_seq FROM sb_hosts" + where, params
    ):
        hosts.setdefault(node_id, HostLedger()).cursor = cursor
    return hosts


class Ledger:
    """Queue ledger writes and commit them in batches; `ensure_durable` before a push."""

    def __init__(self, store: Store) -> None:
        self._store = store
        # node -> key -> what its committed row says: True present, False a DELETE
        self._durable: dict[str, dict[Key, bool]] = {}
        self._upserts: dict[tuple[str, Key], tuple[int, bool]] = {}
        self._acks: dict[tuple[str, Key], int] = {}
        self._errors: dict[tuple[str, Key], tuple[str, int, str | None]] = {}
        self._deletes: set[tuple[str, Key]] = set()
        self._cursors: dict[str, int] = {}
        self._forget: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0

    # ---- lifecycle -------------------------------------------------------------------
    def start(self, loaded: dict[str, HostLedger]) -> None:
        """Remember which rows exist and start the lazy writer."""
        for node_id, host in loaded.items():
            self._durable[node_id] = {key: row.present for key, row in host.rows.items()}
        self._task = asyncio.create_task(self._run(), name="southbound-ledger")

    async def stop(self) -> None:
        """Write what is queued and stop the lazy writer."""
        await cancel(self._task)
        self._task = None
        await self.flush()

    # ---- what the engine reports -----------------------------------------------------
    def sent(self, node_id: str, key: Key, revision: int, present: bool) -> bool:
        """Queue the state about to be pushed; True when it must be committed first: a key
        the host may come to hold, or a DELETE of a key it holds (else a crash right after
        would restore it as held and never delete it)."""
        if key[0] == NEIGHBOR:
            return False
        self._upserts[(node_id, key)] = (revision, present)
        self._deletes.discard((node_id, key))
        committed = self._durable.setdefault(node_id, {}).get(key)
        return committed is not True if present else committed is True

    def acked(self, node_id: str, key: Key, revision: int) -> None:
        """Queue an acknowledged revision."""
        if key[0] != NEIGHBOR:
            self._acks[(node_id, key)] = revision
            self._poke()

    def refused(self, node_id: str, key: Key, status: str, attempts: int, error: str) -> None:
        """Queue a refusal (INVALID_ARG, FAILURE) with its reason."""
        if key[0] != NEIGHBOR:
            self._errors[(node_id, key)] = (status, attempts, error)
            self._poke()

    def deleted(self, node_id: str, key: Key) -> None:
        """Queue the removal of a row: the host answered the key's DELETE."""
        if key[0] == NEIGHBOR:
            return
        item = (node_id, key)
        self._upserts.pop(item, None)
        self._acks.pop(item, None)
        self._errors.pop(item, None)
        self._deletes.add(item)
        self._poke()

    def cursor(self, node_id: str, seq: int) -> None:
        """Queue a host's delivered-through cursor."""
        if self._cursors.get(node_id) != seq:
            self._cursors[node_id] = seq
            self._poke()

    def adopt(self, loaded: dict[str, HostLedger]) -> None:
        """Remember the committed rows of hosts taken over from another process."""
        for node_id, host in loaded.items():
            self._durable[node_id] = {key: row.present for key, row in host.rows.items()}

    async def release(self, node_id: str) -> None:
        """Write what is queued, then forget a host another process took over (its rows
        stay: they are the new owner's starting point). If the store is away the host's
        queued writes are dropped: the new owner re-sends whatever is not acknowledged."""
        try:
            await self.flush()
        except Exception as exc:
            _LOGGER.warning("node %s given up with unwritten ledger entries: %s", node_id, exc)
        self._drop_queued(node_id)

    def forget_node(self, node_id: str) -> None:
        """Queue the removal of every row of a deleted node."""
        self._drop_queued(node_id)
        self._forget.add(node_id)
        self._poke()

    def _drop_queued(self, node_id: str) -> None:
        self._durable.pop(node_id, None)
        for queue in (self._upserts, self._acks, self._errors):
            for item in [i for i in queue if i[0] == node_id]:
                del queue[item]
        self._deletes = {i for i in self._deletes if i[0] != node_id}
        self._cursors.pop(node_id, None)

    async def write_now(
        self, db: Store, node_id: str, states: list[tuple[Key, int, bool]]
    ) -> Callable[[], None]:
        """Write rows in the caller's transaction (the change's own: see engine.intent);
        return the callback that notes them durable once that transaction commits."""
        now = time.time()
        await db.executemany(
            _UPSERT, [(node_id, k[0], k[1], rev, int(p), now) for k, rev, p in states]
        )

        def committed() -> None:
            durable = self._durable.setdefault(node_id, {})
            for key, _, present in states:
                durable[key] = present

        return committed

    async def ensure_durable(self) -> None:
        """Commit what is queued (before a push that carries a key without a row)."""
        await self.flush()

    # ---- writing ---------------------------------------------------------------------
    def _poke(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(FLUSH_DELAY_S)  # coalesce a burst of replies
            try:
                await self.flush()
            except Exception:  # a failed write is retried with the next batch
                _LOGGER.exception("writing the southbound ledger failed; retrying")
                await asyncio.sleep(1.0)
                self._wake.set()

    async def flush(self) -> None:
        """Write every queued change in one transaction."""
        self._wake.clear()
        if not (
            self._upserts
            or self._acks
            or self._errors
            or self._deletes
            or self._cursors
            or self._forget
        ):
            return
        upserts, self._upserts = self._upserts, {}
        acks, self._acks = self._acks, {}
        errors, self._errors = self._errors, {}
        deletes, self._deletes = self._deletes, set()
        cursors, self._cursors = self._cursors, {}
        forget, self._forget = self._forget, set()
        now = time.time()
        try:
            async with self._store.transaction():
                await _write(self._store, now, upserts, acks, errors, deletes, cursors, forget)
        except BaseException:
            # Put the batch back so nothing is lost (newer queued values win).
            self._upserts = {**upserts, **self._upserts}
            self._acks = {**acks, **self._acks}
            self._errors = {**errors, **self._errors}
            self._deletes |= deletes
            self._cursors = {**cursors, **self._cursors}
            self._forget |= forget
            raise
        self.flushes += 1
        for node_id, key in upserts:
            self._durable.setdefault(node_id, {})[key] = upserts[(node_id, key)][1]
        for node_id, key in deletes:
            self._durable.get(node_id, {}).pop(key, None)


async def _write(
    db: Store,
    now: float,
    upserts: dict[tuple[str, Key], tuple[int, bool]],
    acks: dict[tuple[str, Key], int],
    errors: dict[tuple[str, Key], tuple[str, int, str | None]],
    deletes: Iterable[tuple[str, Key]],
    cursors: dict[str, int],
    forget: Iterable[str],
) -> None:
    for node_id in forget:
        await db.execute("DELETE FROM sb_ledger WHERE node_id = ?", [node_id])
        await db.execute("DELETE FROM sb_hosts WHERE node_id = ?", [node_id])
    if upserts:
        await db.executemany(
            _UPSERT,
            [(n, k[0], k[1], rev, int(present), now) for (n, k), (rev, present) in upserts.items()],
        )
    if acks:
        await db.executemany(
            "UPDATE sb_ledger SET acked_rev = ?, status = 'SUCCESS', attempts = 0, "
            "last_error = NULL, updated_at = ? WHERE node_id = ? AND kind = ? AND key = ?",
            [(rev, now, n, k[0], k[1]) for (n, k), rev in acks.items()],
        )
    if errors:
        await db.executemany(
            "UPDATE sb_ledger SET status = ?, attempts = ?, last_error = ?, updated_at = ? "
            "WHERE node_id = ? AND kind = ? AND key = ?",
            [(s, a, e, now, n, k[0], k[1]) for (n, k), (s, a, e) in errors.items()],
        )
    deletes = list(deletes)
    if deletes:
        await db.executemany(
            "DELETE FROM sb_ledger WHERE node_id = ? AND kind = ? AND key = ?",
            [(n, k[0], k[1]) for n, k in deletes],
        )
    if cursors:
        await db.executemany(
            "INSERT INTO sb_hosts (node_id, cursor_seq, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (node_id) DO UPDATE SET cursor_seq = excluded.cursor_seq, "
            "updated_at = excluded.updated_at",
            [(n, seq, now) for n, seq in cursors.items()],
        )
