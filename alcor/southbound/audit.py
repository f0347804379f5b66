"""Drift audit: what a host should hold (intent) against what it holds (§6.1).

Pure functions: the engine gathers the host's view, its delivery ledger and, for agents
that can say so, their inventory; these compare them. Held states come from the agent
itself when it serves the inventory, else from the ledger (what it acknowledged).
Entries are compared as (resource id -> revision) per kind; a neighbor is named by its
port id. States still pending or in flight to the host are not drift yet, and are
reported apart.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from alcor.southbound.builder import StateBuilder
from alcor.southbound.delivery import Delivery
from alcor.southbound.inventory import Held
from alcor.southbound.view import NEIGHBOR, Key, neighbor_key, port_of_neighbor


@dataclass
class KindDrift:
    """The entries of one kind that differ between intent and what the host holds."""

    missing: list[str] = field(default_factory=list)  # should hold, does not
    stale: list[str] = field(default_factory=list)  # holds another revision
    extra: list[str] = field(default_factory=list)  # holds, should not

    def __bool__(self) -> bool:
        return bool(self.missing or self.stale or self.extra)


@dataclass
class AuditResult:
    """One host's audit."""

    node_id: str
    source: str  # "agent" (its inventory) | "ledger" (what it acknowledged)
    kinds: dict[str, KindDrift]
    in_flight: int = 0
    held: Held = field(default_factory=dict)
    checked_at: float = field(default_factory=time.time)
    error: str | None = None
    repaired: bool = False

    @property
    def clean(self) -> bool:
        """Tell whether intent and held agree on every kind."""
        return self.error is None and not any(self.kinds.values())

    def to_api(self) -> dict[str, Any]:
        """Return the JSON answer of the audit endpoints."""
        return {
            "node_id": self.node_id,
            "source": self.source,
            "clean": self.clean,
            "checked_at": self.checked_at,
            "in_flight": self.in_flight,
            "repaired": self.repaired,
            "error": self.error,
            "kinds": {
                kind: {"missing": d.missing, "stale": d.stale, "extra": d.extra}
                for kind, d in sorted(self.kinds.items())
                if d
            },
        }

    def summary(self) -> dict[str, Any]:
        """Return the short form kept on the node's delivery state."""
        return {
            "checked_at": self.checked_at,
            "source": self.source,
            "clean": self.clean,
            "missing": sum(len(d.missing) for d in self.kinds.values()),
            "stale": sum(len(d.stale) for d in self.kinds.values()),
            "extra": sum(len(d.extra) for d in self.kinds.values()),
            "error": self.error,
        }


def resource_id(key: Key) -> str:
    """Return the id a held entry uses for a delivery key."""
    return port_of_neighbor(key[1]) if key[0] == NEIGHBOR else key[1]


def delivery_key(kind: str, rid: str) -> Key:
    """Return the delivery key of a held entry."""
    return (kind, neighbor_key(rid)) if kind == NEIGHBOR else (kind, rid)


def intent(keys: Iterable[Key], builder: StateBuilder) -> Held:
    """Return what the host should hold: kind -> id -> current revision."""
    out: Held = {}
    for key in keys:
        revision = builder.revision(*key)
        if revision is not None:
            out.setdefault(key[0], {})[resource_id(key)] = revision
    return out


def acknowledged(delivery: Delivery) -> Held:
    """Return what the ledger says the host holds (acknowledged present states)."""
    out: Held = {}
    for key, revision in delivery.acked.items():
        sent = delivery.sent.get(key)
        if sent is None or sent[1]:  # a DELETE in flight: it may still hold it
            out.setdefault(key[0], {})[resource_id(key)] = revision
    return out


def compare(wanted: Held, held: Held, busy: set[Key]) -> dict[str, KindDrift]:
    """Return the drift per kind, leaving out keys pending or in flight (`busy`)."""
    drift: dict[str, KindDrift] = {}
    for kind in set(wanted) | set(held):
        want, have = wanted.get(kind, {}), held.get(kind, {})
        d = KindDrift()
        for rid, revision in want.items():
            if delivery_key(kind, rid) in busy:
                continue
            if rid not in have:
                d.missing.append(rid)
            elif have[rid] != revision:
                d.stale.append(rid)
        d.extra = [r for r in have if r not in want and delivery_key(kind, r) not in busy]
        for entries in (d.missing, d.stale, d.extra):
            entries.sort()
        drift[kind] = d
    return drift


def repair(result: AuditResult, delivery: Delivery) -> list[Key]:
    """Correct the ledger's belief to what the host holds and return the keys to send:
    missing and stale ones are sent again, extra ones deleted."""
    keys: list[Key] = []
    for kind, drift in result.kinds.items():
        for rid in (*drift.missing, *drift.stale):
            key = delivery_key(kind, rid)
            delivery.acked.pop(key, None)
            keys.append(key)
        for rid in drift.extra:
            key = delivery_key(kind, rid)
            revision = result.held.get(kind, {}).get(rid, 0)
            if key not in delivery.sent:
                delivery.sent[key] = (revision, True)  # it holds it: withdraw with a DELETE
            keys.append(key)
    return keys
