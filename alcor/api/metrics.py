"""Gauges computed at scrape time: resources, ports by status, nodes, per-node delivery,
store commits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Gauge

from alcor.southbound import metrics as sb

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
COUNTED = (
    ("network", "networks"),
    ("subnet", "subnets"),
    ("port", "ports"),
    ("router", "routers"),
    ("floatingip", "floatingips"),
    ("security_group", "security_groups"),
    ("security_group_rule", "security_group_rules"),
    ("node", "nodes"),
)


def collect(alcor: Alcor) -> None:
    """Set the gauges /metrics renders (cheap indexed counts)."""
    db = alcor.store.db
    for label, table in COUNTED:
        RESOURCES.labels(label).set(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    PORTS.clear()
    for status, count in db.execute("SELECT status, COUNT(*) FROM ports GROUP BY status"):
        PORTS.labels(status).set(count)
    NODES.clear()
    for transport, count in db.execute("SELECT transport, COUNT(*) FROM nodes GROUP BY transport"):
        NODES.labels(transport).set(count)
    STORE.labels("commits").set(alcor.store.commits)
    STORE.labels("transactions").set(alcor.store.transactions)
    for node_id, sender in alcor.southbound.senders.items():
        d = sender.delivery
        sb.node_gauges(node_id, len(d.pending), d.consecutive_failures, d.last_contact)
