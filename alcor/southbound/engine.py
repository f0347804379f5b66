"""The southbound engine: committed changes -> per-host goal states -> delivered and acked.

Collaborators, each explicit: the topology and planner (the committed network and each
host's view), the builder (encoded states), one HostSender per node (single flight,
coalescing), the transports, the durable ledger (what each host may hold), the on-demand
server and the channel selection of `auto` nodes. Managers only publish events; the
engine subscribes to them and reads through their commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from alcor.bus import Bus, Event
from alcor.config import ClusterConfig, SouthboundConfig
from alcor.lifecycle import cancel
from alcor.managers.port.messages import SetPortStatus
from alcor.priority import background
from alcor.southbound import channel_store, intake, metrics, restore
from alcor.southbound import ledger as ledger_sql
from alcor.southbound.auditor import Auditor
from alcor.southbound.base import TransportError
from alcor.southbound.builder import StateBuilder
from alcor.southbound.channels import Channels
from alcor.southbound.cluster import Partition
from alcor.southbound.commands import (
    AuditNode,
    NodeDeliveryResources,
    NodeDeliveryState,
    ResyncNode,
    TracePacket,
    WaitIdle,
)
from alcor.southbound.compose import build
from alcor.southbound.delivery import Delivery, Message, apply_reply, reply_statuses
from alcor.southbound.gate import PushGate
from alcor.southbound.intent import PortIntent
from alcor.southbound.ledger import Ledger
from alcor.southbound.loader import server_class
from alcor.southbound.ondemand import HostRequests
from alcor.southbound.ownership import Membership
from alcor.southbound.pacing import LoopPacer
from alcor.southbound.planner import Marks, Planner
from alcor.southbound.records import NodeRec
from alcor.southbound.sender import HostSender, backoff_delay
from alcor.southbound.status import delivery_resources, delivery_view
from alcor.southbound.tombstones import Tombstones
from alcor.southbound.topology import Topology
from alcor.southbound.tracing import trace_both
from alcor.southbound.transports import Transports, target
from alcor.southbound.view import NEIGHBOR, PORT, Key, all_keys
from alcor.store import Store, feed
from alcor.store.changes import Change
from alcor.store.revisions import tombstone_of
from alcor.trace.model import Packet

_LOGGER = logging.getLogger(__name__)
STATUS_BATCH_S = 0.003  # port statuses of the replies within this span: one transaction


class SouthboundEngine:
    """Compute goal-state deltas per host and push them through each node's transport."""

    name = "southbound"
    requires: tuple[str, ...] = (
        "store",
        "bus",
        "network",
        "subnet",
        "port",
        "router",
        "security_group",
        "node",
        "floatingip",
        "qos",
        "trunk",
    )

    def __init__(
        self,
        bus: Bus,
        store: Store,
        config: SouthboundConfig,
        transports: dict[str, Any] | None = None,
        cluster: ClusterConfig | None = None,
        membership: Membership | None = None,
    ) -> None:
        self.bus = bus
        self._store = store
        self.config = config
        self.topo = Topology()
        self.planner = Planner(self.topo)
        self.builder = StateBuilder(self.topo)
        self.tombs = Tombstones(self._read_tombstone)
        self.senders: dict[str, HostSender] = {}
        self.transports = Transports(config, transports)
        self.ledger = Ledger(store)
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._unsubscribe: list[Any] = []
        self._semaphore = asyncio.Semaphore(config.max_concurrent_pushes)
        # Hosts that may build and start a push at once: a burst of pushes to 100 hosts takes
        # the loop in slices, with the API's requests served between them. A port's own host
        # does not wait behind its neighbors' pushes (gate.py).
        self._start_gate = PushGate(config.push_start_concurrency)
        # port id -> (status, the port revision it was decided for)
        self._statuses: dict[str, tuple[str, int]] = {}
        self._applying = False
        # The one task writing port statuses (idle only once it has ended).
        self._status_writer: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        # The change-record seq whose marks have all reached the senders (host cursors).
        self.dispatched_seq = 0
        self.requests = HostRequests(self)
        self.channels = Channels(self)
        self.auditor = Auditor(self)
        self.pacer = LoopPacer(
            config.coalesce_ms / 1000,
            config.coalesce_max_ms / 1000,
            config.loop_busy_target,
            config.coalesce_port_ms / 1000,
        )
        self._server: Any = None
        # Several processes on one database: follow the change record, own some hosts.
        self.cluster: Partition | None = None
        if cluster is not None:
            assert membership is not None, "several processes need the cluster membership"
            self.cluster = Partition(self, cluster, membership)
            self.requires = (*type(self).requires, membership.name)

    def owns(self, key: str) -> bool:
        """Tell whether this process delivers for `key` (a node id; always with one process)."""
        return self.cluster is None or self.cluster.owns(key)

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Load the topology and ledger, resume every host, subscribe, serve agents."""
        # Every task started here (and what they start) is background work: the API's
        # callbacks run first (alcor/priority.py).
        with background():
            await self._start()

    async def _start(self) -> None:
        self.bus.handle(NodeDeliveryState, self._state)
        self.bus.handle(ResyncNode, self._resync)
        self.bus.handle(NodeDeliveryResources, self._resources)
        self.bus.handle(WaitIdle, self._wait_idle)
        self.bus.handle(AuditNode, self._audit)
        self.bus.handle(TracePacket, self._trace)
        # Read before loading: what commits meanwhile is applied from the record after.
        seq = await feed.position(self._store) if self.cluster else self._store.change_seq
        nodes = await intake.load(self.bus, self.topo)
        if self.cluster is not None:
            self.cluster.intake.seed_nodes(nodes)
            self.cluster.join(seq)
        loaded = await ledger_sql.load(self._store)
        self.ledger.start(loaded)
        resumed = restore.Restorer(self, loaded, seq)
        for node in list(self.topo.nodes.values()):
            if self.owns(node.id):
                await resumed.host(self._add_sender(node))
        for node_id in set(loaded) - set(self.topo.nodes):
            if self.owns(node_id):
                self.ledger.forget_node(node_id)  # deleted while we were down
        self.dispatched_seq = seq
        self.channels.restore(await channel_store.load(self._store))
        if self.cluster is None:
            for event_type in intake.EVENT_TYPES:
                self._unsubscribe.append(self.bus.subscribe(event_type, self._events.put_nowait))
            # One process delivers to every host: its ledger is the one to write ahead in.
            self._unsubscribe += PortIntent(self.topo, self.ledger, self._store).subscribe(self.bus)
            self._worker = asyncio.create_task(self._work(), name="southbound-events")
        else:
            self.cluster.start()
        self.channels.start()
        for sender in self.senders.values():
            sender.wake()
        await self._start_server()
        self.auditor.start()
        self.pacer.start()

    async def stop(self) -> None:
        """Stop the server, the senders, the event worker, the ledger and the transports."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self.cluster is not None:
            await self.cluster.stop()
        await self.auditor.stop()
        await self.pacer.stop()
        if self._server is not None:
            await self._server.stop()
        await self.channels.stop()
        for sender in list(self.senders.values()):
            await sender.stop()
        await cancel(self._worker)
        if self._status_writer is not None:
            await asyncio.gather(self._status_writer, return_exceptions=True)
        for sender in self.senders.values():
            self._advance_cursor(sender.delivery)
        await self.ledger.stop()
        await self.transports.stop()

    async def _start_server(self) -> None:
        server_config = self.config.grpc_server
        if not server_config.enabled:
            return
        cls = server_class("grpc")
        self._server = cls(server_config.host, server_config.port, self.requests.handle)
        await self._server.start()

    @property
    def store(self) -> Store:
        """Return the store (the southbound's own tables live there)."""
        return self._store

    @property
    def server_port(self) -> int | None:
        """Return the bound port of the controller gRPC server (port 0 resolves at start)."""
        return getattr(self._server, "port", None)

    async def _read_tombstone(self, kind: str, resource_id: str) -> int | None:
        return await tombstone_of(self._store, kind, resource_id)

    # ---- events ------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            event = await self._events.get()
            batch = [event]
            while not self._events.empty():
                batch.append(self._events.get_nowait())
            # Every change committed so far has its event in this batch or an earlier one.
            seq = self._store.change_seq
            marks: Marks = {}
            self._applying = True  # not idle while a batch waits on the store
            try:
                for item in batch:
                    try:
                        await intake.apply(self, item, marks)
                    except Exception:
                        _LOGGER.exception("southbound failed to apply %s", type(item).__name__)
                self._dispatch_batch(marks)
            finally:
                self._applying = False
            await self._after_batch(seq)

    async def apply_changes(self, changes: list[Change], position: int | None) -> None:
        """Apply change-record rows (several processes); `position` once a window is whole."""
        assert self.cluster is not None
        marks: Marks = {}
        self._applying = True
        try:
            for change in changes:
                try:
                    await self.cluster.intake.apply(change, marks)
                except Exception:
                    _LOGGER.exception(
                        "southbound failed to apply %s %s", change.resource, change.id
                    )
            self._dispatch_batch(marks)
        finally:
            self._applying = False
        await self._after_batch(position)

    def _dispatch_batch(self, marks: Marks) -> None:
        self.channels.after_batch(marks)
        self._dispatch(marks)

    async def _after_batch(self, position: int | None) -> None:
        """Advance the hosts' cursors to `position` (None: not yet) and write statuses."""
        if position is not None:
            self.dispatched_seq = position
            for sender in self.senders.values():
                self._advance_cursor(sender.delivery)
        if self._statuses:
            self._write_statuses_soon()

    def _dispatch(self, marks: Marks) -> None:
        for node_id, keys in marks.items():
            sender = self.senders.get(node_id)
            if sender is not None and keys:
                delivery = sender.delivery
                delivery.mark(keys)
                if delivery.urgent:
                    self._start_gate.promote(delivery)
                sender.wake()

    def _add_sender(self, node: NodeRec) -> HostSender:
        sender = HostSender(
            Delivery(node.id),
            self._send_once,
            self.config.retry,
            self.pacer.window,
            port_window_s=self.pacer.port_window,
        )
        self.senders[node.id] = sender
        sender.start()
        return sender

    async def remove_node(self, node_id: str) -> None:
        """Stop delivering to a deleted node and forget its ledger."""
        sender = self.senders.pop(node_id, None)
        if sender is not None:
            await sender.stop()
        self.planner.forget_host(node_id)
        self.ledger.forget_node(node_id)
        self.auditor.forget(node_id)
        await self.transports.forget_node(node_id)

    def ensure_sender(self, node: NodeRec) -> HostSender | None:
        """Return the node's sender, creating it (and marking its full state) for a new node
        this process owns."""
        sender = self.senders.get(node.id)
        if sender is None and self.owns(node.id):
            sender = self._add_sender(node)
            self.mark_full(node.id)
        return sender

    async def adopt_nodes(self, node_ids: list[str]) -> None:
        """Take over hosts another process delivered to: restore each from its ledger."""
        loaded = await ledger_sql.load(self._store, node_ids)
        self.ledger.adopt(loaded)
        resumed = restore.Restorer(self, loaded, self.dispatched_seq)
        for node_id in node_ids:
            node = self.topo.nodes.get(node_id)
            if node is not None and node_id not in self.senders:
                await resumed.host(self._add_sender(node))
                self.senders[node_id].wake()

    async def release_node(self, node_id: str) -> None:
        """Stop delivering to a host another process now owns (its ledger stays)."""
        sender = self.senders.pop(node_id, None)
        if sender is not None:
            await sender.stop()
        await self.ledger.release(node_id)
        self.auditor.forget(node_id)
        await self.transports.forget_node(node_id)

    def mark_full(self, node_id: str) -> None:
        """Mark every key the host should hold and every key it may hold."""
        sender = self.senders.get(node_id)
        if sender is None:
            return
        delivery = sender.delivery
        delivery.mark(all_keys(self.topo, self.planner.view(node_id)))
        delivery.mark(list(delivery.sent))  # withdraw what is no longer wanted
        sender.wake()

    def restart_node(self, node_id: str) -> asyncio.Future[bool] | None:
        """Trust none of a node's acks and push its full state (AGENT_RESTARTED, resync)."""
        sender = self.senders.get(node_id)
        if sender is None:
            return None
        delivery = sender.delivery
        delivery.forget_acks()
        delivery.last_agent_restart = time.time()
        self.planner.revoke_all(node_id)  # the agent asks again for what it needs
        self.channels.forget_host(node_id)
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        delivery.restart_waiters.append(waiter)
        self.mark_full(node_id)
        self._finish_restart(delivery, True)  # an empty desired state is complete at once
        return waiter

    # ---- port status -------------------------------------------------------------------
    def set_status(self, port_id: str, status: str, revision: int) -> None:
        """Queue a port status change decided for the port at `revision` (written in one
        short transaction per batch, and only if the port is still at that revision: this
        picture of the port may be behind the database); with several processes, only by
        the owner of the port's host (of the port, if unbound)."""
        if self.cluster is not None:
            port = self.topo.ports.get(port_id)
            if not self.owns(port.node_id if port is not None and port.node_id else port_id):
                return
        self._statuses[port_id] = (status, revision)

    async def _flush_statuses(self) -> bool:
        """Write the queued statuses in one transaction; False if that failed."""
        statuses, self._statuses = self._statuses, {}
        try:
            await self.bus.call(SetPortStatus(statuses=statuses))
        except Exception:
            _LOGGER.exception("writing %d port statuses failed", len(statuses))
            self._statuses = {**statuses, **self._statuses}  # the next flush retries
            return False
        return True

    def _writing_statuses(self) -> bool:
        return self._status_writer is not None and not self._status_writer.done()

    def _write_statuses_soon(self) -> None:
        """Start the status writer unless it runs: one at a time, after a short batch."""
        if not self._writing_statuses():
            self._status_writer = asyncio.get_running_loop().create_task(
                self._status_writer_run(), name="southbound-statuses"
            )

    async def _status_writer_run(self) -> None:
        # A reply per port must not mean a commit per port: the statuses of the replies
        # that arrive in the next few milliseconds go in one transaction.
        await asyncio.sleep(STATUS_BATCH_S)
        while self._statuses and await self._flush_statuses():
            pass

    def _evaluate_ports(self, delivery: Delivery, ports: list[tuple[str, int]]) -> None:
        """Only the port's own host decides its status (§5.2)."""
        for port_id, revision in ports:
            port = self.topo.ports.get(port_id)
            if port is None or port.node_id != delivery.node_id or port.revision != revision:
                continue
            key = (PORT, port_id)
            refusal = delivery.refused.get(key)
            if delivery.holds(key, revision):
                self.set_status(port_id, "ACTIVE", revision)
            elif refusal is not None and refusal.revision == revision:
                self.set_status(port_id, "ERROR", revision)

    # ---- sending -----------------------------------------------------------------------
    async def _send_once(self, delivery: Delivery) -> bool:
        async with self._start_gate.enter(delivery):
            # Keys are taken inside the gate: what arrives while a host waits joins its push.
            node = self.topo.nodes.get(delivery.node_id)
            if delivery.urgent:
                metrics.observe_port_wait(time.monotonic() - delivery.urgent_since)
            keys = delivery.take_pending()
            if node is None:
                return True
            keys = self.channels.filter_keys(node, keys)
            force = bool(delivery.restart_waiters)
            await self.tombs.prefetch(keys, self.builder.revision, delivery.may_hold)
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
                self._after_delivery(delivery)
                return True
            metrics.observe_build(time.perf_counter() - started)
            await self._record_sending(node, delivery, message)
            delivery.inflight = message  # busy from now on, not once the task runs
            push = asyncio.ensure_future(self._push(node, delivery, message))
            await asyncio.sleep(0)  # the push frames and sends before the gate lets the next
        try:
            return await push
        except asyncio.CancelledError:
            push.cancel()
            raise

    async def _record_sending(self, node: NodeRec, delivery: Delivery, message: Message) -> None:
        """Note what a message carries; commit what the host may hold before it may."""
        must_commit = False
        for carried in message.carried:
            must_commit |= self.ledger.sent(node.id, carried.key, carried.revision, carried.present)
        delivery.record_sent(message)
        if must_commit:
            try:
                await self.ledger.ensure_durable()
            except Exception:
                delivery.mark(c.key for c in message.carried)
                raise

    async def push_out_of_band(
        self, node_id: str, keys: list[Key], transport_name: str, timeout: float
    ) -> dict[Key, tuple[int, str]] | None:
        """Push `keys` to a host now, outside its single-flight queue (revisions make that
        safe); return the reply's statuses, or None when the push failed (the keys then
        go through the host's queue)."""
        node = self.topo.nodes[node_id]
        sender = self.senders[node_id]
        delivery = sender.delivery
        view = self.planner.view(node_id)
        await self.tombs.prefetch(keys, self.builder.revision, delivery.may_hold)
        message = build(self.topo, self.builder, node, view, delivery, self.tombs, keys, force=True)
        if message is None:
            return {}
        await self._record_sending(node, delivery, message)
        try:
            transport = await self.transports.get(node, transport_name)
            reply = await transport.push(
                target(node), message.payload, request_id=message.request_id, timeout=timeout
            )
        except TransportError as exc:
            _LOGGER.warning("out-of-band push to node %s failed: %s", node_id, exc)
            delivery.mark(c.key for c in message.carried)
            sender.wake()
            return None
        self._on_reply(node, delivery, message, reply)
        return reply_statuses(reply)

    async def _push(self, node: NodeRec, delivery: Delivery, message: Message) -> bool:
        try:
            transport = await self.transports.get(node)
        except TransportError as exc:
            delivery.inflight = None  # set by the caller; the message never left
            delivery.mark(c.key for c in message.carried)
            delivery.last_error = f"{exc.kind}: {exc}"
            _LOGGER.warning("node %s: %s", node.id, exc)
            return False
        timeout = min(
            self.config.deadline_max_s,
            self.config.deadline_base_s
            + len(message.carried) * self.config.deadline_per_state_ms / 1000,
        )
        started = time.perf_counter()
        try:
            async with self._semaphore:
                reply = await transport.push(
                    target(node), message.payload, request_id=message.request_id, timeout=timeout
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
        retry = self.config.retry
        outcome = apply_reply(
            delivery, message, reply, retry.failure_attempts, retry.invalid_arg_attempts
        )
        metrics.record_statuses(message, outcome)
        for key, revision in outcome.acked:
            self.ledger.acked(node.id, key, revision)
        for key in outcome.deleted:
            self.ledger.deleted(node.id, key)
        for key, refusal in outcome.new_refusals:
            self.ledger.refused(node.id, key, refusal.status, refusal.attempts, refusal.reason)
            metrics.REJECTED.labels(key[0], refusal.status.lower()).inc()
            delivery.last_error = (
                f"{refusal.status} for {key[0]} {key[1]} revision {refusal.revision}: "
                f"{refusal.reason}"
            )
            _LOGGER.warning("node %s refused: %s", node.id, delivery.last_error)
        if not delivery.refused:
            delivery.last_error = None
        if outcome.retry:
            delivery.mark(outcome.retry)
            attempts = max((delivery.attempts.get((k, 0), 1) for k in outcome.retry), default=1)
            delivery.backoff_until = time.monotonic() + backoff_delay(retry, attempts)
        self._evaluate_ports(delivery, outcome.port_keys)
        self._finish_restart(delivery, True)
        self._after_delivery(delivery)
        if self._statuses:  # most replies (neighbors) change no port status
            self._write_statuses_soon()

    def _finish_restart(self, delivery: Delivery, ok: bool) -> None:
        if delivery.pending:
            return
        for waiter in delivery.restart_waiters:
            if not waiter.done():
                waiter.set_result(ok)
        delivery.restart_waiters.clear()

    def _after_delivery(self, delivery: Delivery) -> None:
        self._advance_cursor(delivery)
        self._idle_check()

    def _advance_cursor(self, delivery: Delivery) -> None:
        """An idle host with no refused neighbor holds every change dispatched so far."""
        if delivery.settled() and not any(k[0] == NEIGHBOR for k in delivery.refused):
            self.ledger.cursor(delivery.node_id, self.dispatched_seq)

    # ---- idleness (tests, benchmark) ---------------------------------------------------
    def is_idle(self) -> bool:
        """Return True when no event is queued and no host has pending or in-flight states."""
        return (
            self._events.empty()
            and not self._applying
            and all(s.delivery.is_idle() for s in self.senders.values())
        )

    def _idle_check(self) -> None:
        if self.is_idle():
            self._idle.set()

    async def _caught_up(self) -> None:
        """With several processes, apply what was committed before an API read of the
        southbound's picture (read your writes)."""
        if self.cluster is not None:
            await self.cluster.caught_up()

    async def _wait_idle(self, cmd: WaitIdle) -> None:
        async with asyncio.timeout(cmd.timeout):
            await self._caught_up()
            while True:
                await self.bus.join()
                await asyncio.sleep(0)
                if self.is_idle() and not self._statuses and not self._writing_statuses():
                    return
                self._idle.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.05):
                        await self._idle.wait()

    # ---- API views ---------------------------------------------------------------------
    async def _state(self, cmd: NodeDeliveryState) -> dict[str, Any] | None:
        await self._caught_up()
        sender = self.senders.get(cmd.node_id)
        node = self.topo.nodes.get(cmd.node_id)
        if sender is None or node is None:
            return None
        view = delivery_view(node, sender.delivery)
        if self.cluster is not None:  # which of the processes delivers to this host
            view["owner"] = self.cluster.membership.member_id
        view["vpc_subscriptions"] = self.channels.describe(node.id)
        return view

    async def _resources(self, cmd: NodeDeliveryResources) -> list[dict[str, Any]]:
        await self._caught_up()
        sender = self.senders.get(cmd.node_id)
        if sender is None:
            return []
        return delivery_resources(sender.delivery, cmd.kind, cmd.status)

    async def _resync(self, cmd: ResyncNode) -> None:
        self.restart_node(cmd.node_id)

    async def _trace(self, cmd: TracePacket) -> dict[str, Any]:
        await self._caught_up()
        packet = Packet(cmd.src_ip, cmd.to, cmd.protocol, cmd.port, cmd.from_port)
        deliveries = {node_id: s.delivery for node_id, s in self.senders.items()}
        return trace_both(self.topo, self.planner, deliveries, packet, cmd.source)

    async def _audit(self, cmd: AuditNode) -> dict[str, Any] | None:
        await self._caught_up()
        result = await self.auditor.audit_node(cmd.node_id, cmd.repair)
        return None if result is None else result.to_api()
