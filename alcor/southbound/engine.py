"""Data-plane manager: turns committed changes into per-host goal states and delivers them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from alcor.bus import Bus, Event
from alcor.config import SouthboundConfig
from alcor.managers.common import admin_context
from alcor.managers.port.messages import SetPortStatus
from alcor.southbound import intake as ev
from alcor.southbound import metrics
from alcor.southbound.base import NodeTarget, SouthboundContext, TransportError
from alcor.southbound.builder import StateBuilder
from alcor.southbound.channels import Channels
from alcor.southbound.commands import (
    NodeDeliveryResources,
    NodeDeliveryState,
    ResyncNode,
    WaitIdle,
)
from alcor.southbound.compose import apply_reply, build
from alcor.southbound.loader import transport_class
from alcor.southbound.ondemand import HostRequests
from alcor.southbound.planner import Marks, Planner
from alcor.southbound.sender import Delivery, HostSender, Message, backoff_delay
from alcor.southbound.topology import NodeRec, Topology
from alcor.southbound.view import PORT, Key, all_keys
from alcor.store import Store

_LOGGER = logging.getLogger(__name__)


class SouthboundEngine:
    """Compute goal-state deltas per host and push them through each node's transport."""

    name = "dataplane"
    requires = (
        "store",
        "bus",
        "network",
        "subnet",
        "port",
        "router",
        "security_group",
        "node",
        "floatingip",
    )

    def __init__(
        self,
        bus: Bus,
        store: Store,
        config: SouthboundConfig,
        transports: dict[str, Any] | None = None,
    ) -> None:
        self._bus = bus
        self._store = store
        self.config = config
        self._overrides = transports
        self.topo = Topology()
        self.planner = Planner(self.topo)
        self.builder = StateBuilder(self.topo)
        self.tombs: dict[Key, int] = {}
        self.senders: dict[str, HostSender] = {}
        self._transports: dict[str, Any] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._unsubscribe: list[Any] = []
        self._semaphore = asyncio.Semaphore(config.max_concurrent_pushes)
        self._statuses: dict[str, str] = {}
        self._idle = asyncio.Event()
        self.requests = HostRequests(self)
        self.channels = Channels(self)
        self._server: Any = None

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Load the topology, subscribe to changes, start senders and the gRPC server."""
        for command, handler in (
            (NodeDeliveryState, self._state),
            (ResyncNode, self._resync),
            (NodeDeliveryResources, self._resources),
            (WaitIdle, self._wait_idle),
        ):
            self._bus.handle(command, handler)
        await ev.load(self._bus, self.topo)
        for event_type in ev.EVENT_TYPES:
            self._unsubscribe.append(self._bus.subscribe(event_type, self._events.put_nowait))
        self._worker = asyncio.create_task(self._work(), name="dataplane-events")
        self.channels.start()
        for node in list(self.topo.nodes.values()):
            self._add_sender(node)
            self._mark_full(node.id)
        await self._start_server()

    async def stop(self) -> None:
        """Stop the server, the senders, the event worker and every transport."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._server is not None:
            await self._server.stop()
        await self.channels.stop()
        for sender in list(self.senders.values()):
            await sender.stop()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for transport in self._transports.values():
            await transport.stop()

    async def _start_server(self) -> None:
        server_config = self.config.grpc_server
        if not server_config.enabled:
            return
        from alcor_grpc.server import ControllerGrpcServer

        self._server = ControllerGrpcServer(
            server_config.host, server_config.port, self.requests.handle
        )
        await self._server.start()

    @property
    def server_port(self) -> int | None:
        """Return the bound port of the controller gRPC server (port 0 resolves at start)."""
        return getattr(self._server, "port", None)

    # ---- transports --------------------------------------------------------------------
    async def transport_for(self, node: NodeRec, name: str | None = None) -> Any:
        """Return the started transport of a node's channel (loaded on first use)."""
        name = name or ("grpc" if node.transport == "auto" else node.transport)
        transport = self._transports.get(name)
        if transport is not None:
            return transport
        async with self._loading.setdefault(name, asyncio.Lock()):  # one instance per kind
            transport = self._transports.get(name)
            if transport is None:
                try:
                    cls = transport_class(name, self._overrides)
                    transport = cls(SouthboundContext(config=dict(self.config.section(name))))
                    await transport.start()
                except Exception as exc:  # a broken plugin is a delivery failure, retried
                    raise TransportError(f"transport {name!r} could not start: {exc}") from exc
                self._transports[name] = transport
        return transport

    @staticmethod
    def target(node: NodeRec) -> NodeTarget:
        """Return what a transport needs to reach a node."""
        return NodeTarget(
            node_id=node.id,
            node_name=node.name,
            local_ip=node.local_ip,
            server_port=node.server_port,
            transport=node.transport,
            grpc_api=node.grpc_api,
            mq_topic=node.mq_topic,
            subscribe_port=node.subscribe_port,
        )

    # ---- events ------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            event = await self._events.get()
            batch = [event]
            while not self._events.empty():
                batch.append(self._events.get_nowait())
            marks: Marks = {}
            for item in batch:
                try:
                    await ev.apply(self, item, marks)
                except Exception:
                    _LOGGER.exception("data plane failed to apply %s", type(item).__name__)
            self.channels.after_batch(marks)
            self._dispatch(marks)
            await self._flush_statuses()

    def _dispatch(self, marks: Marks) -> None:
        for node_id, keys in marks.items():
            sender = self.senders.get(node_id)
            if sender is not None and keys:
                sender.delivery.mark(keys)
                sender.wake()

    def _add_sender(self, node: NodeRec) -> HostSender:
        sender = HostSender(Delivery(node.id), self._send_once, self.config.retry)
        self.senders[node.id] = sender
        sender.start()
        return sender

    async def remove_node(self, node_id: str) -> None:
        """Stop delivering to a deleted node."""
        sender = self.senders.pop(node_id, None)
        if sender is not None:
            await sender.stop()
        self.planner.forget_host(node_id)
        for transport in self._transports.values():
            await transport.forget_node(node_id)

    def ensure_sender(self, node: NodeRec) -> HostSender:
        """Return the node's sender, creating it for a new node."""
        return self.senders.get(node.id) or self._add_sender(node)

    def _mark_full(self, node_id: str) -> None:
        sender = self.senders.get(node_id)
        if sender is None:
            return
        view = self.planner.view(node_id)
        sender.delivery.mark(all_keys(self.topo, view))
        sender.delivery.mark(list(sender.delivery.acked))  # withdraw what is no longer wanted
        sender.wake()

    def restart_node(self, node_id: str) -> asyncio.Future[bool] | None:
        """Forget a node's delivery state and push its full desired state (AGENT_RESTARTED)."""
        sender = self.senders.get(node_id)
        if sender is None:
            return None
        delivery = sender.delivery
        delivery.reset()
        delivery.last_agent_restart = time.time()
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        delivery.restart_waiters.append(waiter)
        self._mark_full(node_id)
        self._finish_restart(delivery, True)  # an empty desired state is complete at once
        return waiter

    # ---- port status -------------------------------------------------------------------
    def set_status(self, port_id: str, status: str) -> None:
        """Queue a port status change (written in one short transaction per batch)."""
        self._statuses[port_id] = status

    async def _flush_statuses(self) -> None:
        if self._statuses:
            statuses, self._statuses = self._statuses, {}
            try:
                await self._bus.call(SetPortStatus(statuses=statuses))
            except Exception:
                _LOGGER.exception("writing %d port statuses failed", len(statuses))

    def _evaluate_ports(self, delivery: Delivery, ports: list[tuple[str, int]]) -> None:
        for port_id, revision in ports:
            port = self.topo.ports.get(port_id)
            if port is None or port.node_id != delivery.node_id or port.revision != revision:
                continue
            key = (PORT, port_id)
            if delivery.acked.get(key) == revision:
                self.set_status(port_id, "ACTIVE")
            elif (key, revision) in delivery.exhausted:
                self.set_status(port_id, "ERROR")

    # ---- sending -----------------------------------------------------------------------
    async def _send_once(self, delivery: Delivery) -> bool:
        node = self.topo.nodes.get(delivery.node_id)
        keys = list(delivery.pending)
        delivery.pending.clear()
        if node is None:
            return True
        keys = self.channels.filter_keys(node, keys)
        force = bool(delivery.restart_waiters)
        started = time.perf_counter()
        message = build(
            self.topo,
            self.builder,
            node,
            self.planner.view(node.id),
            delivery,
            self.tombs,
            keys,
            force=force,
        )
        if message is None:
            self._finish_restart(delivery, True)
            self._idle_check()
            return True
        for carried in message.carried:
            delivery.sent[carried.key] = (carried.revision, carried.present)
        metrics.observe_build(time.perf_counter() - started)
        return await self._push(node, delivery, message)

    async def _push(self, node: NodeRec, delivery: Delivery, message: Message) -> bool:
        try:
            transport = await self.transport_for(node)
        except TransportError as exc:
            delivery.mark(c.key for c in message.carried)
            delivery.last_error = f"{exc.kind}: {exc}"
            _LOGGER.warning("node %s: %s", node.id, exc)
            return False
        timeout = min(
            self.config.deadline_max_s,
            self.config.deadline_base_s
            + len(message.carried) * self.config.deadline_per_state_ms / 1000,
        )
        delivery.inflight = message
        started = time.perf_counter()
        try:
            async with self._semaphore:
                reply = await transport.push(
                    self.target(node),
                    message.payload,
                    request_id=message.request_id,
                    timeout=timeout,
                )
        except TransportError as exc:
            delivery.mark(c.key for c in message.carried)
            delivery.connected = False
            delivery.last_error = f"{exc.kind}: {exc}"
            metrics.push_result(node.id, node.transport, exc.kind, time.perf_counter() - started)
            _LOGGER.warning(
                "push to node %s failed (attempt %d): %s",
                node.id,
                delivery.consecutive_failures + 1,
                exc,
            )
            return False
        finally:
            delivery.inflight = None
        metrics.push_result(
            node.id,
            node.transport,
            "ok",
            time.perf_counter() - started,
            reply.message_total_operation_time,
        )
        self._on_reply(node, delivery, message, reply)
        return True

    def _on_reply(self, node: NodeRec, delivery: Delivery, message: Message, reply: Any) -> None:
        delivery.connected = True
        delivery.consecutive_failures = 0
        delivery.last_contact = time.time()
        delivery.last_error = None
        outcome = apply_reply(
            delivery,
            message,
            reply,
            self.config.retry.failure_attempts,
            self.config.retry.invalid_arg_attempts,
        )
        metrics.record_statuses(message, outcome)
        if outcome.retry:
            delivery.mark(outcome.retry)
            attempts = max((delivery.attempts.get((k, 0), 1) for k in outcome.retry), default=1)
            delivery.backoff_until = time.monotonic() + backoff_delay(self.config.retry, attempts)
        self._evaluate_ports(delivery, outcome.port_keys)
        self._finish_restart(delivery, True)
        self._idle_check()
        asyncio.get_running_loop().create_task(self._flush_statuses())

    def _finish_restart(self, delivery: Delivery, ok: bool) -> None:
        if delivery.pending:
            return
        for waiter in delivery.restart_waiters:
            if not waiter.done():
                waiter.set_result(ok)
        delivery.restart_waiters.clear()

    # ---- idleness (tests, benchmark) ---------------------------------------------------
    def is_idle(self) -> bool:
        """Return True when no event is queued and no host has pending or in-flight states."""
        return self._events.empty() and all(
            not s.delivery.pending and s.delivery.inflight is None for s in self.senders.values()
        )

    def _idle_check(self) -> None:
        if self.is_idle():
            self._idle.set()

    async def _wait_idle(self, cmd: WaitIdle) -> None:
        async with asyncio.timeout(cmd.timeout):
            while True:
                await self._bus.join()
                await asyncio.sleep(0)
                if self.is_idle() and not self._statuses:
                    return
                self._idle.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._idle.wait(), timeout=0.05)

    # ---- API views ---------------------------------------------------------------------
    async def _state(self, cmd: NodeDeliveryState) -> dict[str, Any] | None:
        sender = self.senders.get(cmd.node_id)
        node = self.topo.nodes.get(cmd.node_id)
        if sender is None or node is None:
            return None
        view = ev.delivery_view(node, sender.delivery)
        view["vpc_subscriptions"] = self.channels.describe(node.id)
        return view

    async def _resources(self, cmd: NodeDeliveryResources) -> list[dict[str, Any]]:
        sender = self.senders.get(cmd.node_id)
        if sender is None:
            return []
        return ev.delivery_resources(sender.delivery, cmd.kind, cmd.status)

    async def _resync(self, cmd: ResyncNode) -> None:
        self.restart_node(cmd.node_id)


__all__ = ["SouthboundEngine", "admin_context"]
