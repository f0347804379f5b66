"""Run drift audits: on request (API, CLI) and periodically; repair sends the difference."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge

from alcor.lifecycle import cancel
from alcor.southbound import audit, inventory
from alcor.southbound.base import NotSupported, TransportError
from alcor.southbound.delivery import Delivery
from alcor.southbound.transports import target
from alcor.southbound.view import all_keys

if TYPE_CHECKING:
    from alcor.southbound.engine import SouthboundEngine

_LOGGER = logging.getLogger(__name__)

AUDITS = Counter(
    "alcor_southbound_audits_total", "Drift audits by result (clean, drift, error)", ["result"]
)
DRIFT = Gauge(
    "alcor_southbound_drift_states",
    "States that differ between intent and a host at its last audit",
    ["kind"],
)


class Auditor:
    """Audit hosts of one engine."""

    def __init__(self, engine: SouthboundEngine) -> None:
        self._engine = engine
        self._task: asyncio.Task[None] | None = None
        self._drift: dict[str, dict[str, int]] = {}  # node -> kind -> drifting states

    def start(self) -> None:
        """Start the periodic audit (southbound.audit_interval_s; 0 = off)."""
        if self._engine.config.audit_interval_s > 0:
            self._task = asyncio.create_task(self._run(), name="southbound-audit")

    async def stop(self) -> None:
        """Stop the periodic audit."""
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        config = self._engine.config
        while True:
            await asyncio.sleep(config.audit_interval_s)
            for node_id, sender in list(self._engine.senders.items()):
                if sender.delivery.is_idle():  # a busy host is converging, not drifting
                    try:
                        await self.audit_node(node_id, repair=config.audit_repair)
                    except Exception:
                        _LOGGER.exception("auditing node %s failed", node_id)

    async def audit_node(self, node_id: str, repair: bool) -> audit.AuditResult | None:
        """Audit one host (None if unknown); with `repair`, send exactly the difference."""
        engine = self._engine
        sender = engine.senders.get(node_id)
        node = engine.topo.nodes.get(node_id)
        if sender is None or node is None:
            return None
        delivery = sender.delivery
        topic_keys, topic_busy = engine.channels.topic_keys(node_id)
        keys = set(all_keys(engine.topo, engine.planner.view(node_id))) | topic_keys
        wanted = audit.intent(keys, engine.builder)
        held, source, error = await self._held(node_id, wanted)
        if held is None:
            held, source = audit.acknowledged(delivery), "ledger"
        busy = set(delivery.pending) | topic_busy
        if delivery.inflight is not None:
            busy.update(c.key for c in delivery.inflight.carried)
        result = audit.AuditResult(
            node_id, source, audit.compare(wanted, held, busy), len(busy), held, error=error
        )
        self._record(result, delivery)
        if repair and not result.clean:
            repairs = audit.repair(result, delivery)
            if repairs:
                delivery.mark(repairs)
                sender.wake()
            result.repaired = True
            _LOGGER.warning(
                "node %s: audit found drift, repairing %d states", node_id, len(repairs)
            )
        return result

    async def _held(
        self, node_id: str, wanted: inventory.Held
    ) -> tuple[inventory.Held | None, str, str | None]:
        """Ask the agent; digests first, entries only when they differ."""
        engine = self._engine
        node = engine.topo.nodes[node_id]
        timeout = engine.config.audit_timeout_s
        try:
            grpc = await engine.transports.get(node, "grpc")
            reply = await grpc.inventory(target(node), entries=False, timeout=timeout)
            digests, _ = inventory.decode_reply(reply)
            if all(
                digests.get(k, inventory.digest({})) == inventory.digest(v)
                for k, v in wanted.items()
            ) and all(digests[k] == inventory.digest(wanted.get(k, {})) for k in digests):
                return wanted, "agent", None
            reply = await grpc.inventory(target(node), entries=True, timeout=timeout)
            return inventory.decode_reply(reply)[1], "agent", None
        except NotSupported:
            return None, "ledger", None
        except TransportError as exc:
            return None, "ledger", f"agent inventory unavailable: {exc}"

    def _record(self, result: audit.AuditResult, delivery: Delivery) -> None:
        delivery.last_audit = result.summary()
        AUDITS.labels("error" if result.error else ("clean" if result.clean else "drift")).inc()
        self._drift[result.node_id] = {
            kind: len(d.missing) + len(d.stale) + len(d.extra) for kind, d in result.kinds.items()
        }
        kinds = {kind for per_node in self._drift.values() for kind in per_node}
        for kind in kinds:
            DRIFT.labels(kind).set(sum(n.get(kind, 0) for n in self._drift.values()))

    def forget(self, node_id: str) -> None:
        """Drop a deleted node's drift from the gauges' sums."""
        self._drift.pop(node_id, None)
