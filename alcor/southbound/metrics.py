"""Prometheus series of the southbound (spec §5.3)."""

from __future__ import annotations

import functools
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from alcor.southbound.delivery import status_name

COALESCE_WINDOW = Gauge(
    "alcor_sb_coalesce_window_seconds",
    "Each host's coalescing window now (widened while the event loop is near saturation)",
)
LOOP_BUSY = Gauge(
    "alcor_sb_loop_busy_share",
    "How busy the event loop is, smoothed (CPU of its thread plus timer lag, share of wall time)",
)
PUSH_TOTAL = Counter("alcor_sb_push_total", "Goal-state pushes", ["node", "transport", "result"])
PUSH_SECONDS = Histogram(
    "alcor_sb_push_seconds",
    "Push round trip",
    ["transport"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30),
)
AGENT_SECONDS = Histogram(
    "alcor_sb_agent_processing_seconds",
    "Agent-reported processing time",
    ["transport"],
    buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1, 10),
)
BUILD_SECONDS = Histogram(
    "alcor_sb_build_seconds",
    "Time to build and encode one host message",
    buckets=(0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1),
)
PORT_WAIT_SECONDS = Histogram(
    "alcor_sb_port_wait_seconds",
    "From a PORT state marked for its own host to the push that carries it starting",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)
STATES_TOTAL = Counter("alcor_sb_states_total", "States answered", ["kind", "status"])
OUT_OF_ORDER = Counter("alcor_sb_out_of_order_total", "OUT_OF_ORDER answers", ["kind"])
REJECTED = Counter(
    "alcor_southbound_rejected_total",
    "States an agent refused (INVALID_ARG, FAILURE), by kind and status",
    ["kind", "reason"],
)
PENDING = Gauge("alcor_sb_pending_states", "Dirty states waiting per node", ["node"])
FAILURES = Gauge("alcor_sb_consecutive_failures", "Consecutive push failures", ["node"])
LAST_CONTACT = Gauge("alcor_sb_last_contact_timestamp_seconds", "Last reply", ["node"])
PORT_STATUS = Gauge("alcor_port_status", "Ports by status", ["status"])
ONDEMAND_TOTAL = Counter("alcor_ondemand_requests_total", "ON_DEMAND requests", ["result"])
ONDEMAND_SECONDS = Histogram("alcor_ondemand_seconds", "ON_DEMAND latency", ["result"])


def push_result(
    node: str, transport: str, result: str, seconds: float, agent_us: int | None = None
) -> None:
    """Count one push and its latency."""
    _series(PUSH_TOTAL, node, transport, result).inc()
    _series(PUSH_SECONDS, transport).observe(seconds)
    if agent_us:
        _series(AGENT_SECONDS, transport).observe(agent_us / 1e6)


def observe_port_wait(seconds: float) -> None:
    """Record how long a port's own host waited for the push carrying its PORT state."""
    PORT_WAIT_SECONDS.observe(seconds)


def observe_build(seconds: float) -> None:
    """Record the build time of one message."""
    BUILD_SECONDS.observe(seconds)


def record_statuses(message: Any, outcome: Any) -> None:
    """Count per-state answers of one reply."""
    for status, count in outcome.statuses.items():
        _series(STATES_TOTAL, "all", status_name(status)).inc(count)
    for kind, count in outcome.out_of_order.items():
        _series(OUT_OF_ORDER, kind).inc(count)


@functools.cache
def _series(metric: Any, *labels: str) -> Any:
    """Return a labelled series, looked up once: `labels()` validates and locks on every
    call, a few microseconds per push that add up at thousands of pushes a second."""
    return metric.labels(*labels)


def node_gauges(node: str, pending: int, failures: int, last_contact: float | None) -> None:
    """Refresh the per-node gauges."""
    PENDING.labels(node).set(pending)
    FAILURES.labels(node).set(failures)
    if last_contact is not None:
        LAST_CONTACT.labels(node).set(last_contact)
