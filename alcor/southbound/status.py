"""The node API's view of a host's delivery (southbound spec §5.3)."""

from __future__ import annotations

import datetime
import time
from typing import Any

from alcor.southbound.delivery import Delivery
from alcor.southbound.records import NodeRec


def iso(ts: float | None) -> str | None:
    """Return a UNIX time as an ISO 8601 UTC string (None stays None)."""
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def delivery_view(node: NodeRec, delivery: Delivery) -> dict[str, Any]:
    """Return the "southbound" object of GET /nodes/{id}."""
    inflight = delivery.inflight
    backoff = delivery.backoff_until - time.monotonic()
    return {
        "transport": node.transport,
        "grpc_api": node.grpc_api,
        "agent_type": node.agent_type,
        "connected": delivery.connected,
        "last_contact": iso(delivery.last_contact),
        "last_success": iso(delivery.last_success),
        "last_agent_restart": iso(delivery.last_agent_restart),
        "consecutive_failures": delivery.consecutive_failures,
        "last_error": delivery.last_error,
        "backoff_until": iso(time.time() + backoff) if backoff > 0 else None,
        "pending_states": len(delivery.pending),
        "inflight": (
            {
                "request_id": inflight.request_id,
                "states": len(inflight.carried),
                "since": iso(inflight.since),
            }
            if inflight
            else None
        ),
        "resources": delivery.counts(),
        "errors": sum(1 for _ in delivery.refused),
        "last_audit": delivery.last_audit,
        "vpc_subscriptions": [],
    }


def delivery_resources(
    delivery: Delivery, kind: str | None, status: str | None
) -> list[dict[str, Any]]:
    """Return per-key delivery records (GET /nodes/{id}/southbound/resources)."""
    out = []
    for key, (revision, present) in sorted(delivery.sent.items()):
        if kind is not None and key[0] != kind:
            continue
        last = delivery.status.get(key)
        if status is not None and last != status:
            continue
        refusal = delivery.refused.get(key)
        out.append(
            {
                "kind": key[0],
                "key": key[1],
                "sent_rev": revision,
                "operation": "CREATE_OR_UPDATE" if present else "DELETE",
                "acked_rev": delivery.acked.get(key),
                "last_status": last,
                "attempts": delivery.attempts.get((key, revision), 0),
                "error": refusal.reason if refusal is not None else None,
            }
        )
    return out
