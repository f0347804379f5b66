"""Outbox rows to Zeta management API calls, Zeta's answers to outcomes.

The calls go through a ZetaApi (the HTTP edge is alcor/gateway/client.py). Zeta as its
code behaves (southbound spec §8.4): not idempotent (a create of a known id is a 500), a
500 for an unknown id, no array PUT/DELETE, port rows written before its data-plane call
(so a 500 may come after a commit), and VNIs plus the active ZGC kept only in memory. Hence:

* before re-sending anything whose outcome is unknown, read the object: present = done;
* a 500 answer is an unknown outcome too: Zeta is asked right away what it now holds;
* a DELETE answered with an error is done when a GET says the object is gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from alcor.managers.gateway import worker
from alcor.managers.gateway.messages import (
    PORT_CREATE,
    PORT_DELETE,
    PORT_UPDATE,
    VPC_CREATE,
    VPC_DELETE,
)
from alcor.store.outbox import Row

_LOGGER = logging.getLogger(__name__)
PROBE_CONCURRENCY = 32  # GETs in flight while reading back a batch of ports


class ZetaUnreachable(Exception):
    """No answer from Zeta (connection refused, reset, timeout): the outcome is unknown."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer of Zeta."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        """Return True for a 2xx answer."""
        return 200 <= self.status < 300

    def describe(self, method: str, path: str) -> str:
        """Return a one-line account of the answer, for last_error."""
        text = self.body if isinstance(self.body, str) else orjson.dumps(self.body).decode()
        return f"{method} {path} answered {self.status}: {text[:200]}"


@dataclass
class Result(worker.Result):
    """An attempt's result, with what Zeta told about the VPC."""

    vpc: dict[str, Any] | None = None  # Zeta's view of the VPC (zgc_id, gws, port_ibo)
    lost_signal: bool = False  # Zeta looks to have lost the VPC's in-memory state


class ZetaApi(Protocol):
    """Zeta's management API as the gateway manager uses it (alcor/gateway/client.py
    speaks it over HTTP; tests may pass any object with these methods)."""

    async def start(self) -> None:
        """Open connections."""

    async def stop(self) -> None:
        """Close connections."""

    async def call(self, method: str, path: str, body: Any = None) -> Reply:
        """Send one request; return Zeta's answer or raise ZetaUnreachable."""


class ZetaCalls:
    """Send the head of a VPC's lane to Zeta: one VPC call, or a batch of port creates."""

    def __init__(self, client: ZetaApi, port_batch: int) -> None:
        self._client = client
        self._port_batch = port_batch
        self._senders: dict[str, Callable[[Row], Awaitable[Result]]] = {
            VPC_CREATE: self._vpc_create,
            VPC_DELETE: self._vpc_delete,
            PORT_UPDATE: self._port_update,
            PORT_DELETE: self._port_delete,
        }

    def take(self, rows: Sequence[Row]) -> list[Row]:
        """Return the rows to send together: consecutive port creates, else the head alone."""
        if rows[0].kind != PORT_CREATE:
            return [rows[0]]
        batch = []
        for row in rows[: self._port_batch]:
            if row.kind != PORT_CREATE:
                break
            batch.append(row)
        return batch

    async def send(self, rows: Sequence[Row]) -> Result:
        """Make the calls of `rows` (from take); unreachable Zeta fails them all."""
        try:
            if rows[0].kind == PORT_CREATE:
                return await self._port_create(rows)
            return await self._senders[rows[0].kind](rows[0])
        except ZetaUnreachable as exc:
            return Result(error=f"zeta unreachable: {exc}")

    # ---- VPCs -------------------------------------------------------------------------
    async def _vpc_create(self, row: Row) -> Result:
        path = f"/vpcs/{row.target}"
        if row.attempts:  # the last attempt may have created it
            found = await self._client.call("GET", path)
            if found.ok and isinstance(found.body, dict):
                return Result(done={row.id: "found"}, vpc=found.body)
        # Exactly these keys: Zeta answers 500 to any other.
        body = {"vpc_id": row.payload["vpc_id"], "vni": row.payload["vni"]}
        reply = await self._client.call("POST", "/vpcs", body)
        if reply.ok and isinstance(reply.body, dict):
            return Result(done={row.id: "sent"}, vpc=reply.body)
        return Result(error=reply.describe("POST", "/vpcs"))

    async def _vpc_delete(self, row: Row) -> Result:
        return await self._delete(row, f"/vpcs/{row.target}")

    # ---- ports ------------------------------------------------------------------------
    async def _port_create(self, rows: Sequence[Row]) -> Result:
        vpc_id = rows[0].key
        result = Result()
        if any(r.attempts for r in rows):  # unknown outcomes: read back before re-sending
            if not await self._vpc_readable(vpc_id):
                result.lost_signal = True
                result.error = f"GET /vpcs/{vpc_id} failed: zeta may have lost the VPC"
                return result
            await self._mark_present(rows, result)
        missing = [r for r in rows if r.id not in result.done]
        if not missing:
            return result
        reply = await self._client.call("POST", "/ports", [r.payload for r in missing])
        if reply.ok:
            result.done.update((r.id, "sent") for r in missing)
            return result
        result.error = reply.describe("POST", "/ports")
        if reply.status >= 500:  # may have come after Zeta wrote the rows: ask it now
            readable = await self._vpc_readable(vpc_id)
            before = len(result.done)
            await self._mark_present(missing, result)
            # Nothing written and the VPC unreadable, or readable but refusing every port:
            # what Zeta does once a restart has wiped its VNIs (§8.4).
            result.lost_signal = not readable or len(result.done) == before
        return result

    async def _vpc_readable(self, vpc_id: str) -> bool:
        reply = await self._client.call("GET", f"/vpcs/{vpc_id}")
        return reply.ok and isinstance(reply.body, dict) and bool(reply.body.get("zgc_id"))

    async def _mark_present(self, rows: Sequence[Row], result: Result) -> None:
        slots = asyncio.Semaphore(PROBE_CONCURRENCY)

        async def present(row: Row) -> bool:
            async with slots:
                return (await self._client.call("GET", f"/ports/{row.target}")).ok

        found = await asyncio.gather(*(present(r) for r in rows))
        result.done.update((r.id, "found") for r, here in zip(rows, found, strict=True) if here)

    async def _port_update(self, row: Row) -> Result:
        path = f"/ports/{row.target}"
        mac = row.payload["mac_port"]
        if row.attempts and await self._has_mac(path, mac):
            return Result(done={row.id: "found"})
        reply = await self._client.call("PUT", path, {"mac_port": mac})
        if reply.ok or await self._has_mac(path, mac):
            return Result(done={row.id: "sent" if reply.ok else "found"})
        return Result(error=reply.describe("PUT", path))

    async def _has_mac(self, path: str, mac: str) -> bool:
        reply = await self._client.call("GET", path)
        return reply.ok and isinstance(reply.body, dict) and reply.body.get("mac_port") == mac

    async def _port_delete(self, row: Row) -> Result:
        return await self._delete(row, f"/ports/{row.target}")

    # ---- deletes ----------------------------------------------------------------------
    async def _delete(self, row: Row, path: str) -> Result:
        """DELETE; Zeta answers 500 for an unknown id, so "gone" is confirmed with a GET."""
        if row.attempts and not (await self._client.call("GET", path)).ok:
            return Result(done={row.id: "gone"})
        reply = await self._client.call("DELETE", path)
        if reply.ok:
            return Result(done={row.id: "sent"})
        if not (await self._client.call("GET", path)).ok:
            return Result(done={row.id: "gone"})
        return Result(error=reply.describe("DELETE", path) + " and it is still there")
