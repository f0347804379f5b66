"""What the controller knows about one host's programming, and how a reply changes it.

Honest by construction (southbound spec §5): a state is acknowledged only for the exact
revision the agent acknowledged; a DELETE only when the agent answered it (until then the
host may still hold the state); INVALID_ARG and FAILURE are errors from the first refusal,
with the agent's reason, until a later revision or a retry succeeds.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from betterproto import PLACEHOLDER

from alcor.proto import schema
from alcor.southbound.builder import TYPE_KIND
from alcor.southbound.view import NEIGHBOR, PORT, Key, neighbor_key

ST = schema.OperationStatus
REFUSED_NAMES = frozenset({"FAILURE", "INVALID_ARG"})


_STATUS_NAMES = {int(member): member.name for member in ST}


def status_name(status: int) -> str:
    """Return the OperationStatus name of a status value."""
    name = _STATUS_NAMES.get(status)
    return name if name is not None else str(status)


@dataclass(slots=True)
class Carried:
    """One state inside an in-flight message."""

    key: Key
    revision: int
    present: bool  # False for a DELETE


@dataclass
class Message:
    """A built goal state for one host."""

    request_id: str
    payload: bytes
    carried: list[Carried]
    since: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class Refusal:
    """An agent's INVALID_ARG or FAILURE for one state revision."""

    revision: int
    status: str  # INVALID_ARG | FAILURE
    reason: str
    attempts: int


@dataclass
class Delivery:
    """One host's delivery state: the in-memory ledger (also the API's view).

    `sent` holds every key the host may hold: the last state sent for it (revision, and
    False for a DELETE). A key leaves `sent` only when the agent answered its DELETE.
    """

    node_id: str
    pending: dict[Key, None] = field(default_factory=dict)  # ordered set of dirty keys
    sent: dict[Key, tuple[int, bool]] = field(default_factory=dict)
    acked: dict[Key, int] = field(default_factory=dict)
    status: dict[Key, str] = field(default_factory=dict)  # last status per key
    attempts: dict[tuple[Key, int], int] = field(default_factory=dict)
    refused: dict[Key, Refusal] = field(default_factory=dict)
    exhausted: set[tuple[Key, int]] = field(default_factory=set)
    inflight: Message | None = None
    # A PORT state is pending: its own host waits on it to be ACTIVE (HostSender's port window).
    urgent: bool = False
    urgent_since: float = 0.0  # time.monotonic() the first pending PORT state was marked
    # A message is being built and recorded (it may wait on the store before it is in flight).
    sending: bool = False
    backoff_until: float = 0.0
    consecutive_failures: int = 0
    last_contact: float | None = None
    last_success: float | None = None
    last_agent_restart: float | None = None
    last_error: str | None = None
    connected: bool = False
    restart_waiters: list[asyncio.Future[bool]] = field(default_factory=list)
    last_audit: dict[str, object] | None = None

    def mark(self, keys: Iterable[Key]) -> None:
        """Add dirty keys (duplicates merge)."""
        pending = self.pending
        for key in keys:
            pending[key] = None
            if key[0] == PORT and not self.urgent:
                self.urgent = True
                self.urgent_since = time.monotonic()

    def take_pending(self) -> list[Key]:
        """Return the dirty keys in marking order and clear them."""
        keys = list(self.pending)
        self.pending.clear()
        self.urgent = False
        return keys

    def may_hold(self, key: Key) -> bool:
        """Tell whether the host may hold `key` (sent and not answered as deleted)."""
        return key in self.sent or key in self.acked

    def holds(self, key: Key, revision: int) -> bool:
        """Tell whether the agent acknowledged exactly `revision` of `key`."""
        return self.acked.get(key) == revision

    def forget_acks(self) -> None:
        """Trust nothing the agent acknowledged (agent restart, full resync).

        `sent` stays: whatever the host may hold and no longer should is withdrawn.
        """
        self.acked.clear()
        self.status.clear()
        self.attempts.clear()
        self.refused.clear()
        self.exhausted.clear()
        self.backoff_until = 0.0

    def record_sent(self, message: Message) -> None:
        """Note what a message carries before it leaves.

        A DELETE ends what the ledger knows the host holds: a re-entry of the key is sent
        even at the revision the host acknowledged before.
        """
        for carried in message.carried:
            self.sent[carried.key] = (carried.revision, carried.present)
            if not carried.present:
                self.acked.pop(carried.key, None)

    def is_idle(self) -> bool:
        """Tell whether nothing is pending or in flight."""
        return self.settled() and not self.sending

    def settled(self) -> bool:
        """Tell whether every state marked so far has been answered (nothing pending or
        in flight; a reply being handled counts as answered)."""
        return not self.pending and self.inflight is None

    def counts(self) -> dict[str, dict[str, int]]:
        """Return per kind how many states are acked, unacked and refused."""
        out: dict[str, dict[str, int]] = {}
        for key, (revision, present) in self.sent.items():
            entry = out.setdefault(key[0], {"acked": 0, "unacked": 0, "error": 0})
            refusal = self.refused.get(key)
            if refusal is not None and refusal.revision == revision:
                entry["error"] += 1
            elif present and self.acked.get(key) == revision:
                entry["acked"] += 1
            else:
                entry["unacked"] += 1
        return out


@dataclass
class ReplyOutcome:
    """What a reply means for the sender: keys to retry, refusals, port status updates."""

    retry: list[Key] = field(default_factory=list)
    port_keys: list[tuple[str, int]] = field(default_factory=list)  # (port id, revision)
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # status -> n
    out_of_order: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    new_refusals: list[tuple[Key, Refusal]] = field(default_factory=list)
    acked: list[tuple[Key, int]] = field(default_factory=list)
    deleted: list[Key] = field(default_factory=list)


def reply_statuses(
    reply: schema.GoalStateOperationReply,
) -> dict[Key, tuple[int, str]]:
    """Return (status, reason) per (kind, key) named in a reply (§5.1 key mapping)."""
    by_key: dict[Key, tuple[int, str]] = {}
    type_kind = TYPE_KIND
    for status in reply.operation_statuses:
        rtype, rid, value, why = _fields(status)
        kind = type_kind.get(rtype)
        if kind is None:
            continue
        by_key[(kind, neighbor_key(rid) if kind == NEIGHBOR else rid)] = (value, why)
    return by_key


def _fields(status: Any) -> tuple[Any, str, int, str]:
    """Read a status's fields straight from its __dict__: betterproto's attribute access
    costs more than the rest of reply processing (thousands of statuses per second)."""
    values = object.__getattribute__(status, "__dict__")
    rtype = values.get("resource_type", PLACEHOLDER)
    rid = values.get("resource_id", PLACEHOLDER)
    value = values.get("operation_status", PLACEHOLDER)
    why = values.get("status_message", PLACEHOLDER)
    if PLACEHOLDER in (rtype, rid, value, why):  # built by hand, not decoded: ask betterproto
        rtype, rid, value = status.resource_type, status.resource_id, status.operation_status
        why = status.status_message
    return rtype, rid, int(value), why


def apply_reply(
    delivery: Delivery,
    message: Message,
    reply: schema.GoalStateOperationReply,
    failure_attempts: int,
    invalid_arg_attempts: int,
) -> ReplyOutcome:
    """Record the per-state statuses of a completed call (§5.1)."""
    outcome = ReplyOutcome()
    by_key = reply_statuses(reply)
    now = time.time()
    for carried in message.carried:
        key = carried.key
        # A state without an entry succeeded: ACA reports only some kinds.
        status, reason = by_key.get(key, (ST.SUCCESS, ""))
        outcome.statuses[status] += 1
        delivery.status[key] = status_name(status)
        if status in (ST.SUCCESS, ST.OUT_OF_ORDER):
            _accepted(delivery, carried, status, outcome)
            delivery.last_success = now
        elif status == ST.PENDING:
            outcome.retry.append(key)
        else:
            _refused(
                delivery, carried, status, reason, outcome, failure_attempts, invalid_arg_attempts
            )
        if key[0] == PORT and carried.present:
            outcome.port_keys.append((key[1], carried.revision))
    return outcome


def _accepted(delivery: Delivery, carried: Carried, status: int, outcome: ReplyOutcome) -> None:
    key = carried.key
    if status == ST.OUT_OF_ORDER:
        outcome.out_of_order[key[0]] += 1
    if carried.present:
        previous = delivery.acked.get(key, 0)
        delivery.acked[key] = max(previous, carried.revision)
        outcome.acked.append((key, delivery.acked[key]))
    elif status == ST.SUCCESS or delivery.acked.get(key, 0) <= carried.revision:
        # The DELETE was applied, or the agent had already removed it at a later revision.
        delivery.acked.pop(key, None)
        if delivery.sent.get(key) == (carried.revision, False):
            del delivery.sent[key]
            outcome.deleted.append(key)
    refusal = delivery.refused.get(key)
    if refusal is not None and refusal.revision <= carried.revision:
        del delivery.refused[key]
    delivery.attempts.pop((key, carried.revision), None)


def _refused(
    delivery: Delivery,
    carried: Carried,
    status: int,
    reason: str,
    outcome: ReplyOutcome,
    failure_attempts: int,
    invalid_arg_attempts: int,
) -> None:
    key = carried.key
    attempt = delivery.attempts.get((key, carried.revision), 0) + 1
    delivery.attempts[(key, carried.revision)] = attempt
    refusal = Refusal(carried.revision, status_name(status), reason or "no reason given", attempt)
    previous = delivery.refused.get(key)
    delivery.refused[key] = refusal
    if previous is None or previous.revision != carried.revision:
        outcome.new_refusals.append((key, refusal))
    limit = invalid_arg_attempts if status == ST.INVALID_ARG else failure_attempts
    if attempt < limit:
        outcome.retry.append(key)
    else:
        delivery.exhausted.add((key, carried.revision))
