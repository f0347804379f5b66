"""One reference agent: its gRPC servers, start-up resync and ARP/on-demand (spec §7)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import h2.exceptions
from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError, StreamTerminatedError

from alcor.proto import schema
from alcor.southbound import wire
from alcor_grpc.wire import (
    CODEC,
    GET_INVENTORY,
    PUSH_GOALSTATES,
    PUSH_SESSION,
    PUSH_SUBSCRIBE_INFO,
    PUSH_V1,
    PUSH_V2,
    REQUEST_GOAL_STATES,
    ClosingServer,
    Raw,
    SourceBoundChannel,
    bind_socket,
)

from . import inventory
from .apply import Applier, ApplyOptions
from .state import AgentState

_LOGGER = logging.getLogger(__name__)

_CALL_ERRORS = (
    GRPCError,
    OSError,
    TimeoutError,
    StreamTerminatedError,
    h2.exceptions.ProtocolError,
)

# Called with (topic, key) after a Subscribe is stored; the Kafka consumer plugs in here.
SubscribeHook = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """Where one agent listens and whom it asks for goal states."""

    ip: str
    port: int = 50001  # 0 = any free port (tests); read Agent.port after start()
    subscribe_port: int | None = None  # default: port + 1 (any free port when port is 0)
    controller: tuple[str, int] | None = None
    node_id: str = ""
    apply_latency_us: int = 0
    apply: ApplyOptions = field(default_factory=ApplyOptions)
    restart_deadline_s: float = 600.0
    ondemand_deadline_s: float = 2.0
    arp_wait_s: float = 1.0
    arp_poll_s: float = 0.001
    backoff_base_s: float = 0.2
    backoff_cap_s: float = 30.0
    kafka: str | None = None  # bootstrap servers: consume the host topic and VPC topics
    mq_topic: str | None = None  # the node's mq_topic, when it overrides the derived topic
    kafka_host_topic_prefix: str = "alcor-host-"  # = southbound.kafka.host_topic_prefix
    kafka_reply_topic: str = "alcor-replies"  # = southbound.kafka.reply_topic
    kafka_fetch_max_wait_ms: int = 100


def backoff_delay(attempt: int, base: float, cap: float, factor: float = 2.0) -> float:
    """Return the jittered delay before retry `attempt` (1-based): d/2 + uniform(0, d/2)."""
    d = min(cap, base * factor ** (attempt - 1))
    return d / 2 + random.uniform(0, d / 2)


async def _unimplemented(stream: Any) -> None:
    raise GRPCError(Status.UNIMPLEMENTED, "not served by an agent")


class Agent:
    """An in-memory host agent that speaks the ACA wire contract plus alcor's extensions."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.ip = config.ip
        self.node_id = config.node_id or config.ip
        self.port = config.port
        if config.subscribe_port is not None:
            self.subscribe_port = config.subscribe_port
        else:
            self.subscribe_port = config.port + 1 if config.port else 0
        self.state = AgentState(self.ip)
        self.applier = Applier(self.state, config.apply)
        self.restarted = asyncio.Event()  # set once AGENT_RESTARTED got SUCCESS
        self.on_subscribe: SubscribeHook | None = None
        self._apply_lock = asyncio.Lock()
        self._servers: list[ClosingServer] = []
        self._channel: SourceBoundChannel | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.kafka: Any = None

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Serve both gRPC services, then announce the restart to the controller."""
        self.port = await self._serve(_Provisioner(self), self.port)
        self.subscribe_port = await self._serve(_Subscriber(self), self.subscribe_port)
        if self.config.kafka:
            # Consuming before announcing: the restart push may arrive over Kafka.
            from alcor.agent.kafka import AgentKafka

            self.kafka = AgentKafka(
                self.config.kafka,
                self.node_id,
                self.ip,
                self.apply,
                host_topic=self.config.mq_topic
                or self.config.kafka_host_topic_prefix + self.node_id,
                reply_topic=self.config.kafka_reply_topic,
                fetch_max_wait_ms=self.config.kafka_fetch_max_wait_ms,
            )
            await self.kafka.start()
        self._start_announcer()

    async def _serve(self, service: Any, port: int) -> int:
        """Serve one gRPC service on this agent's IP; return the bound port."""
        sock = bind_socket(self.ip, port)
        server = ClosingServer([service], codec=CODEC)
        await server.start(sock=sock)
        self._servers.append(server)
        return int(sock.getsockname()[1])

    async def stop(self) -> None:
        """Cancel background work, close the servers and the controller channel."""
        await self._cancel_tasks()
        if self.kafka is not None:
            await self.kafka.stop()
            self.kafka = None
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    async def restart(self) -> None:
        """Wipe every table and re-run start-up (AGENT_RESTARTED)."""
        await self._cancel_tasks()
        self.state = AgentState(self.ip)
        self.applier = Applier(self.state, self.config.apply)
        self.restarted = asyncio.Event()
        self._start_announcer()

    def lose_tables(self) -> None:
        """Wipe every table without telling the controller (chaos: a host whose data plane
        was reset behind the agent's back); only an audit finds it."""
        self.state = AgentState(self.ip)
        self.applier = Applier(self.state, self.config.apply)

    def _start_announcer(self) -> None:
        if self.config.controller is None:
            return
        task = asyncio.create_task(self._announce_restart(), name=f"agent-{self.ip}-restart")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error(
                "agent %s: task %s crashed", self.ip, task.get_name(), exc_info=task.exception()
            )

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- goal states -----------------------------------------------------------------

    async def apply(self, payload: bytes, *, v1: bool = False) -> bytes:
        """Apply one encoded goal state and return the encoded reply (gRPC or Kafka).

        Messages apply one at a time, each in steps that yield to the event loop, so a
        huge message on one agent does not stall the other agents of the pool. Raises
        ValueError when the payload is not a decodable goal state.
        """
        async with self._apply_lock:
            applier = self.applier
            steps = applier.steps_v1(payload) if v1 else applier.steps_v2(payload)
            try:
                while True:
                    next(steps)
                    await asyncio.sleep(0)
            except StopIteration as done:
                reply: bytes = done.value
            except (IndexError, UnicodeDecodeError) as exc:
                raise ValueError(f"malformed goal state: {exc}") from exc
            if self.config.apply_latency_us:
                await asyncio.sleep(self.config.apply_latency_us * applier.last_states / 1e6)
        return reply

    def apply_goal_state_bytes(self, payload: bytes) -> schema.GoalStateOperationReply:
        """Apply a GoalStateV2 synchronously and return the decoded reply (tests, Kafka)."""
        return wire.decode_reply(self.applier.apply_v2(payload))

    def plug(self, port_id: str) -> None:
        """Mark a port as plugged (Nova's vif plug): its CREATE stops answering PENDING."""
        self.state.plugged.add(port_id)

    # ---- controller calls ------------------------------------------------------------

    def _stub(self) -> schema.GoalStateProvisionerStub:
        assert self.config.controller is not None
        if self._channel is None:
            host, port = self.config.controller
            self._channel = SourceBoundChannel(host, port, local_ip=self.ip, codec=CODEC)
        return schema.GoalStateProvisionerStub(self._channel)

    async def request_goal_states(
        self, request: schema.HostRequestResourceStateRequest, timeout: float
    ) -> schema.OperationStatus:
        """Send one state request to the controller; return its status (FAILURE on error)."""
        if self.config.controller is None:
            return schema.OperationStatus.FAILURE
        try:
            reply = await self._stub().request_goal_states(
                schema.HostRequest(format_version=1, state_requests=[request]), timeout=timeout
            )
        except _CALL_ERRORS as exc:
            _LOGGER.warning("agent %s: RequestGoalStates failed: %s", self.ip, exc)
            if isinstance(exc, OSError | StreamTerminatedError) and self._channel is not None:
                self._channel.close()  # dial afresh next time
                self._channel = None
            return schema.OperationStatus.FAILURE
        for status in reply.operation_statuses:
            if status.request_id == request.request_id:
                return status.operation_status
        return schema.OperationStatus.FAILURE

    async def _announce_restart(self) -> None:
        """Send AGENT_RESTARTED until the controller answers SUCCESS (capped backoff)."""
        attempt = 0
        while True:
            attempt += 1
            request = schema.HostRequestResourceStateRequest(
                request_type=schema.RequestType.AGENT_RESTARTED, request_id=str(uuid.uuid4())
            )
            status = await self.request_goal_states(request, self.config.restart_deadline_s)
            self.state.counters["restart_requests"] += 1
            if status == schema.OperationStatus.SUCCESS:
                self.restarted.set()
                _LOGGER.info("agent %s: resynced by the controller", self.ip)
                return
            delay = backoff_delay(attempt, self.config.backoff_base_s, self.config.backoff_cap_s)
            _LOGGER.warning(
                "agent %s: AGENT_RESTARTED answered %s; retry %d in %.2f s",
                self.ip,
                status.name,
                attempt,
                delay,
            )
            await asyncio.sleep(delay)

    # ---- ARP and on-demand -----------------------------------------------------------

    async def arp(self, tunnel_id: int, ip: str, src_ip: str = "") -> dict[str, Any]:
        """Answer an ARP request from the table, asking the controller on a miss."""
        return await self._resolve(tunnel_id, src_ip, ip, schema.Protocol.ARP)

    async def packet(
        self, tunnel_id: int, src_ip: str, dst_ip: str, protocol: schema.Protocol
    ) -> dict[str, Any]:
        """Resolve the destination of an unknown unicast packet like an ARP miss."""
        return await self._resolve(tunnel_id, src_ip, dst_ip, protocol)

    async def _resolve(
        self, tunnel_id: int, src_ip: str, dst_ip: str, protocol: schema.Protocol
    ) -> dict[str, Any]:
        entry = self.state.arp_lookup(dst_ip, tunnel_id)
        if entry is not None:
            self.state.counters["arp_hit"] += 1
            return _answer(dst_ip, tunnel_id, entry, on_demand=False)
        self.state.counters["arp_miss"] += 1
        request = schema.HostRequestResourceStateRequest(
            request_type=schema.RequestType.ON_DEMAND,
            request_id=str(uuid.uuid1()),
            tunnel_id=tunnel_id,
            source_ip=src_ip,
            destination_ip=dst_ip,
            ethertype=schema.EtherType.IPV4,
            protocol=protocol,
        )
        status = await self.request_goal_states(request, self.config.ondemand_deadline_s)
        self.state.counters[f"on_demand:{status.name}"] += 1
        if status == schema.OperationStatus.SUCCESS:
            # As ACA: the push lands before the reply, but re-check for a while anyway.
            deadline = time.monotonic() + self.config.arp_wait_s
            while True:
                entry = self.state.arp_lookup(dst_ip, tunnel_id)
                if entry is not None or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(self.config.arp_poll_s)
        return _answer(dst_ip, tunnel_id, entry, on_demand=True, status=status.name)

    # ---- subscriptions ---------------------------------------------------------------

    async def subscribe(self, info: dict[str, Any]) -> int:
        """Store or drop a subscription; return an OperationStatus value."""
        topic = info.get("topic", "")
        if not topic:
            return int(schema.OperationStatus.INVALID_ARG)
        key = info.get("key", "")
        if info.get("subscribe_operation", 0) == schema.SubscribeOperation.Unsubscribe:
            self.state.subscriptions.pop(topic, None)
            if self.kafka is not None:
                await self.kafka.unsubscribe(topic)
            return int(schema.OperationStatus.SUCCESS)
        self.state.subscriptions[topic] = {"key": key, "state": "subscribing", "since": time.time()}
        if self.kafka is not None:
            try:
                # SUCCESS only once the topic is applied up to its end at subscribe time.
                await self.kafka.subscribe(topic)
            except Exception as exc:  # an unreadable topic fails the Subscribe, retried
                _LOGGER.warning("agent %s: subscribing to %s failed: %s", self.ip, topic, exc)
                self.state.subscriptions.pop(topic, None)
                return int(schema.OperationStatus.FAILURE)
        if self.on_subscribe is not None:
            await self.on_subscribe(topic, key)
        self.state.subscriptions[topic]["state"] = "subscribed"
        return int(schema.OperationStatus.SUCCESS)

    def describe(self) -> dict[str, Any]:
        """Return a short summary for listings."""
        st = self.state
        return {
            "ip": self.ip,
            "port": self.port,
            "subscribe_port": self.subscribe_port,
            "node_id": self.node_id,
            "restarted": self.restarted.is_set(),
            "ports": len(st.ports),
            "neighbors": len(st.neighbors),
            "routers": len(st.routers),
        }


def _answer(
    ip: str, tunnel_id: int, entry: Any, *, on_demand: bool, status: str | None = None
) -> dict[str, Any]:
    found = entry is not None
    return {
        "ip": ip,
        "tunnel_id": tunnel_id,
        "found": found,
        "mac": entry.mac if found else None,
        "host_ip": entry.host_ip if found else None,
        "port_id": entry.port_id if found else None,
        "on_demand": on_demand,
        "on_demand_status": status,
    }


class _Provisioner:
    """GoalStateProvisioner as ACA serves it: the two pushes; the rest UNIMPLEMENTED."""

    def __init__(self, agent: Agent) -> None:
        self._agent = agent

    async def _push_v2(self, stream: Any) -> None:
        # ACA reads one message, writes one reply and finishes OK.
        payload = await stream.recv_message()
        if payload is not None:
            await stream.send_message(await self._apply(payload, v1=False))

    async def _push_session(self, stream: Any) -> None:
        # alcor extension (session.proto): one reply per push, in order, on one open stream.
        # Headers first: the controller waits for them to know sessions are served.
        await stream.send_initial_metadata()
        async for payload in stream:
            await stream.send_message(await self._apply(payload, v1=False))

    async def _push_v1(self, stream: Any) -> None:
        payload = await stream.recv_message()
        await stream.send_message(await self._apply(payload, v1=True))

    async def _inventory(self, stream: Any) -> None:
        payload = await stream.recv_message()
        request = wire.decode(schema.InventoryRequest, payload or b"")
        await stream.send_message(
            inventory.answer(
                self._agent.state, bool(request.get("entries")), request.get("kind_mask", 0)
            )
        )

    async def _apply(self, payload: bytes, v1: bool) -> bytes:
        try:
            return await self._agent.apply(payload, v1=v1)
        except ValueError as exc:
            raise GRPCError(Status.INVALID_ARGUMENT, str(exc)) from exc

    def __mapping__(self) -> dict[str, Handler]:
        unary = Cardinality.UNARY_UNARY
        return {
            PUSH_V2: Handler(self._push_v2, Cardinality.STREAM_STREAM, Raw, Raw),
            PUSH_V1: Handler(self._push_v1, unary, Raw, Raw),
            PUSH_SESSION: Handler(self._push_session, Cardinality.STREAM_STREAM, Raw, Raw),
            REQUEST_GOAL_STATES: Handler(_unimplemented, unary, Raw, Raw),
            GET_INVENTORY: Handler(self._inventory, unary, Raw, Raw),
            PUSH_GOALSTATES: Handler(_unimplemented, unary, Raw, Raw),
        }


class _Subscriber:
    """SubscribeInfoProvisioner: store subscriptions (Kafka consumption via on_subscribe)."""

    def __init__(self, agent: Agent) -> None:
        self._agent = agent

    async def _push(self, stream: Any) -> None:
        payload = await stream.recv_message()
        status = await self._agent.subscribe(wire.decode(schema.NodeSubscribeInfo, payload))
        await stream.send_message(b"\x08" + bytes((status,)) if status else b"")

    def __mapping__(self) -> dict[str, Handler]:
        return {PUSH_SUBSCRIBE_INFO: Handler(self._push, Cardinality.UNARY_UNARY, Raw, Raw)}
