"""Gauges computed at scrape time: resources, ports by status, nodes, per-node delivery,
store commits, the outbox of external calls."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from prometheus_client import Gauge

from alcor.managers.gateway.messages import OUTBOX_KINDS
from alcor.resources.gateway import STATUSES as GATEWAY_STATUSES
from alcor.southbound import metrics as sb
from alcor.store import outbox

if TYPE_CHECKING:
    from alcor.app import Alcor

RESOURCES = Gauge("alcor_resources", "Stored resources", ["type"])
PORTS = Gauge("alcor_ports", "Ports by status", ["status"])
NODES = Gauge("alcor_nodes", "Registered nodes by transport", ["transport"])
STORE = Gauge(
    "alcor_store_writes",
    "Store commits and the transactions they carried (group commit: transactions per commit)",
    ["kind"],
)
OUTBOX_PENDING = Gauge("alcor_outbox_pending", "Outbox rows not yet settled", ["kind"])
OUTBOX_OLDEST = Gauge(
    "alcor_outbox_oldest_age_seconds", "Age of the oldest unsettled outbox row (0 when none)"
)
GATEWAYS = Gauge(
    "alcor_gateways", "Gateways by status (ERROR: alarmed, still retrying)", ["status"]
)
GATEWAY_UNREAD = Gauge(
    "alcor_gateway_changes_unread",
    "Committed changes the gateway manager has not read yet (its lag behind the record)",
)
COUNTED = (
    ("gateway", "gateways"),
    ("network", "networks"),
    ("subnet", "subnets"),
    ("port", "ports"),
    ("router", "routers"),
    ("floatingip", "floatingips"),
    ("security_group", "security_groups"),
    ("security_group_rule", "security_group_rules"),
    ("node", "nodes"),
)


async def collect(alcor: Alcor) -> None:
    """Set the gauges /metrics renders (cheap indexed counts)."""
    db = alcor.store
    for label, table in COUNTED:
        RESOURCES.labels(label).set(await db.fetchval(f"SELECT COUNT(*) FROM {table}"))
    PORTS.clear()
    for status, count in await db.fetch("SELECT status, COUNT(*) FROM ports GROUP BY status"):
        PORTS.labels(status).set(count)
    NODES.clear()
    for transport, count in await db.fetch(
        "SELECT transport, COUNT(*) FROM nodes GROUP BY transport"
    ):
        NODES.labels(transport).set(count)
    STORE.labels("commits").set(alcor.store.commits)
    STORE.labels("transactions").set(alcor.store.transactions)
    for node_id, sender in alcor.southbound.senders.items():
        d = sender.delivery
        sb.node_gauges(node_id, len(d.pending), d.consecutive_failures, d.last_contact)
    await collect_outbox(db)
    for status in GATEWAY_STATUSES:
        GATEWAYS.labels(status).set(0)
    for status, count in await db.fetch("SELECT status, COUNT(*) FROM gateways GROUP BY status"):
        GATEWAYS.labels(status).set(count)
    if alcor.gateways is not None:
        GATEWAY_UNREAD.set(alcor.gateways.unread_changes)


async def collect_outbox(db: Any) -> None:
    """Set the outbox gauges (every known kind reported, 0 when none is pending)."""
    pending = await outbox.pending_by_kind(db)
    for kind in {*OUTBOX_KINDS, *pending}:
        OUTBOX_PENDING.labels(kind).set(pending.get(kind, 0))
    oldest = await outbox.oldest_pending_created(db)
    OUTBOX_OLDEST.set(max(0.0, time.time() - oldest) if oldest is not None else 0)
