"""gRPC southbound transport: push pre-encoded goal states to host agents over grpclib."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn, cast

import h2.exceptions
from grpclib.client import Channel, Stream
from grpclib.const import Cardinality, Status
from grpclib.exceptions import GRPCError, ProtocolError, StreamTerminatedError

from alcor.proto import schema
from alcor.southbound.base import NodeTarget, NotSupported, SouthboundContext, TransportError
from alcor.southbound.channel_pool import ChannelPool, Pooled

from .wire import CODEC, GET_INVENTORY, PUSH_SESSION, PUSH_SUBSCRIBE_INFO, PUSH_V1, PUSH_V2, Raw

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GrpcConfig:
    """The `[southbound.grpc]` section (spec §2.1)."""

    connect_timeout_s: float = 5.0
    channel_idle_close_s: float = 300.0
    # Read by the per-host sender to choose `timeout` for push(); kept here because they
    # live in the same config section.
    deadline_base_s: float = 10.0
    deadline_per_state_ms: float = 0.5
    deadline_max_s: float = 600.0
    warmup: bool = False  # send one empty GoalStateV2 on each new connection first
    # Push on one long-lived PushGoalStatesSession stream per agent that serves it (the
    # reference agent); an agent refusing it (ACA: UNIMPLEMENTED) gets one call per push.
    sessions: bool = True

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> GrpcConfig:
        """Build from a config section; an unknown key raises ValueError naming it."""
        known = set(cls.__dataclass_fields__)
        for key in section:
            if key not in known:
                raise ValueError(f"southbound.grpc.{key}: unknown key")
        return cls(**section)

    def push_deadline(self, states: int) -> float:
        """Return the per-call deadline for a message carrying `states` states."""
        per_state_s = self.deadline_per_state_ms / 1000
        return min(self.deadline_max_s, self.deadline_base_s + states * per_state_s)


# A failure raised by grpclib, h2 or the socket before any status arrived.
_CONNECTION_ERRORS = (OSError, StreamTerminatedError, h2.exceptions.ProtocolError, EOFError)


class GrpcTransport:
    """Push goal states on `PushGoalStatesStream` (or V1 `PushNetworkResourceStates`).

    One lazily created grpclib Channel per agent address, closed after
    `channel_idle_close_s` without calls and replaced after a connection error.
    """

    name: ClassVar[str] = "grpc"

    def __init__(self, ctx: SouthboundContext) -> None:
        self.config = GrpcConfig.from_mapping(ctx.config)
        self._ctx = ctx
        self._pool: ChannelPool[Channel] = ChannelPool(
            lambda addr: Channel(addr[0], addr[1], codec=CODEC), Channel.close
        )
        self._tasks: set[asyncio.Task[None]] = set()
        # Agents that refused to open a PushGoalStatesSession (by address), until their
        # connection breaks (the agent may come back as another version).
        self._unserved: set[tuple[str, int]] = set()

    async def start(self) -> None:
        """Start the idle-channel reaper."""
        task = asyncio.create_task(
            self._pool.reap(self.config.channel_idle_close_s), name="grpc-transport-reaper"
        )
        self._tasks.add(task)

    async def stop(self) -> None:
        """Cancel the reaper and close every channel."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._pool.close_all()

    async def forget_node(self, node_id: str) -> None:
        """Close the channels opened for `node_id`."""
        self._pool.forget(node_id)

    async def push(
        self, node: NodeTarget, payload: bytes, *, request_id: str, timeout: float
    ) -> schema.GoalStateOperationReply:
        """Send one encoded goal state and return the agent's single reply.

        V2 nodes get it on the connection's push session when the agent serves one (the
        reference agent), else one `PushGoalStatesStream` call with exactly one message
        each way (ACA reads one message, replies once and finishes). `grpc_api="v1"` nodes
        get the unary `PushNetworkResourceStates` with a V1 GoalState payload.
        """
        if node.grpc_api != "v1" and self._session_served(node):
            try:
                return await self._call(
                    node,
                    node.server_port,
                    PUSH_SESSION,
                    lambda pooled: self._push_in_session(pooled, payload),
                    timeout,
                    request_id,
                )
            except SessionRefused:
                # Nothing was sent on it: push this message with one call, and so on.
                self._unserved.add((node.local_ip, node.server_port))
        v1 = node.grpc_api == "v1"
        method, cardinality = (
            (PUSH_V1, Cardinality.UNARY_UNARY) if v1 else (PUSH_V2, Cardinality.STREAM_STREAM)
        )
        reply = await self._call(
            node,
            node.server_port,
            method,
            lambda pooled: self._exchange(
                pooled.channel,
                method,
                cardinality,
                schema.GoalStateOperationReply,
                payload,
                timeout,
            ),
            timeout,
            request_id,
        )
        return cast(schema.GoalStateOperationReply, reply)

    def _session_served(self, node: NodeTarget) -> bool:
        """Tell whether pushes to `node` may go on a session (not known to be refused)."""
        return self.config.sessions and (node.local_ip, node.server_port) not in self._unserved

    @staticmethod
    async def _push_in_session(pooled: Pooled[Channel], payload: bytes) -> Any:
        """Write one goal state on the connection's push session and read its reply.

        The session opens on first use. A push while another is in flight on it (an
        on-demand push beside the host's queue) takes a session of its own for this push:
        replies on one stream come in order, so two waiting on it would be ambiguous.
        Any failure ends the session (the next push opens another): a reply that is late
        would otherwise be taken as the next push's.
        """
        session = pooled.session
        if session is None or session.busy:
            session = await _Session.open(pooled.channel)
            if pooled.session is None:
                pooled.session = session
        session.busy = True
        try:
            reply = await session.exchange(payload)
        except BaseException as exc:
            if pooled.session is session:
                pooled.session = None
            await session.abort(exc)
            raise
        session.busy = False
        if pooled.session is not session:
            await session.close()  # a one-off session of a concurrent push
        return reply

    async def push_subscribe_info(
        self, node: NodeTarget, info: schema.NodeSubscribeInfo, *, timeout: float
    ) -> schema.SubscribeOperationReply:
        """Call `SubscribeInfoProvisioner.PushNodeSubscribeInfo` on the node's subscribe port."""
        port = node.subscribe_port or node.server_port + 1
        reply = await self._unary(
            node, port, PUSH_SUBSCRIBE_INFO, schema.SubscribeOperationReply, bytes(info), timeout
        )
        return cast(schema.SubscribeOperationReply, reply)

    async def inventory(
        self, node: NodeTarget, *, entries: bool, timeout: float
    ) -> schema.InventoryReply:
        """Ask the agent what it holds (AgentInventory.GetInventory, an alcor extension).

        Raises NotSupported when the agent does not serve it (ACA), TransportError else.
        """
        request = schema.InventoryRequest(format_version=1, entries=entries)
        reply = await self._unary(
            node, node.server_port, GET_INVENTORY, schema.InventoryReply, bytes(request), timeout
        )
        return cast(schema.InventoryReply, reply)

    async def _unary(
        self,
        node: NodeTarget,
        port: int,
        method: str,
        reply_type: type[Any],
        payload: bytes,
        timeout: float,
    ) -> Any:
        return await self._call(
            node,
            port,
            method,
            lambda pooled: self._exchange(
                pooled.channel, method, Cardinality.UNARY_UNARY, reply_type, payload, timeout
            ),
            timeout,
            "",
        )

    async def _call(
        self,
        node: NodeTarget,
        port: int,
        method: str,
        exchange: Callable[[Pooled[Channel]], Awaitable[Any]],
        timeout: float,
        request_id: str,
    ) -> Any:
        """Run `exchange` on the agent's channel within `timeout`; map failures to
        TransportError kinds (a broken connection is dropped from the pool)."""
        addr = (node.local_ip, port)
        pooled = self._pool.get(node.node_id, addr)
        try:
            with self._pool.using(pooled):
                async with asyncio.timeout(timeout):
                    await self._connect(pooled, addr)
                    return await exchange(pooled)
        except TimeoutError as exc:
            raise TransportError(
                f"{method} to {addr[0]}:{port}: deadline of {timeout} s "
                f"exceeded (request {request_id})",
                "deadline",
            ) from exc
        except GRPCError as exc:
            raise _status_error(exc, addr, request_id) from exc
        except ProtocolError as exc:
            raise TransportError(f"{addr[0]}:{port}: {exc}", "protocol_error") from exc
        except _CONNECTION_ERRORS as exc:
            self._pool.drop(addr, pooled)
            self._unserved.discard(addr)
            raise TransportError(
                f"{addr[0]}:{port}: {type(exc).__name__}: {exc}", "transport_error"
            ) from exc

    async def _connect(self, pooled: Pooled[Channel], addr: tuple[str, int]) -> None:
        try:
            async with asyncio.timeout(self.config.connect_timeout_s):
                await pooled.channel.__connect__()
                if self.config.warmup and not pooled.warmed:
                    # ACA answers an empty GoalStateV2 with an empty reply (spec §2.3).
                    await self._exchange(
                        pooled.channel,
                        PUSH_V2,
                        Cardinality.STREAM_STREAM,
                        Raw,
                        b"",
                        self.config.connect_timeout_s,
                    )
                    pooled.warmed = True
        except TimeoutError as exc:
            self._pool.drop(addr, pooled)
            raise OSError(f"connect timed out after {self.config.connect_timeout_s} s") from exc

    @staticmethod
    async def _exchange(
        channel: Channel,
        method: str,
        cardinality: Cardinality,
        reply_type: type[Any],
        payload: bytes,
        timeout: float,
    ) -> Any:
        stream: Stream[Any, Any]
        # Raw: the payload crosses BytesCodec untouched (typed as bytes, not Raw).
        async with channel.request(
            method, cardinality, cast(Any, Raw), reply_type, timeout=timeout
        ) as stream:
            await stream.send_message(payload, end=True)
            reply = await stream.recv_message()
            if reply is None:
                raise ProtocolError("the agent finished without a reply")
            if cardinality is Cardinality.STREAM_STREAM and await stream.recv_message() is not None:
                raise ProtocolError("the agent sent more than one reply")
            # Leaving the block reads the trailers and raises GRPCError on a non-OK status.
        return reply

    def close_idle(self, used_before: float) -> int:
        """Close channels not used since `used_before` (monotonic); return how many."""
        return self._pool.close_idle(used_before)

    def channel_count(self) -> int:
        """Return the number of open (pooled) channels."""
        return len(self._pool)


class SessionRefused(Exception):
    """The agent answered the opening of a push session with a status (it has none)."""


class _Session:
    """One open PushGoalStatesSession stream: a push is a message out and a reply back."""

    __slots__ = ("busy", "stack", "stream")

    def __init__(self, stack: contextlib.AsyncExitStack, stream: Stream[Any, Any]) -> None:
        self.stack = stack
        self.stream = stream
        self.busy = False

    @classmethod
    async def open(cls, channel: Channel) -> _Session:
        """Open the stream and wait for the agent's headers (no deadline of its own: each
        push has one, around the exchange). Raises SessionRefused when the agent answers
        the open with a status instead: it does not serve sessions, and as no message was
        sent, nothing was applied."""
        stack = contextlib.AsyncExitStack()
        request = channel.request(
            PUSH_SESSION,
            Cardinality.STREAM_STREAM,
            cast(Any, Raw),
            schema.GoalStateOperationReply,
        )
        stream = await stack.enter_async_context(request)
        try:
            await stream.send_request()
            try:
                await stream.recv_initial_metadata()
            except StreamTerminatedError as exc:
                await _raise_status_of_reset(stack, exc)
        except GRPCError as exc:
            # UNIMPLEMENTED from ACA; a grpclib agent's "method not found" even reads as
            # UNKNOWN (no content-type in its trailers-only answer). Either way: refused.
            await _leave(stack, exc)
            raise SessionRefused(exc.message or exc.status.name) from exc
        except BaseException as exc:
            await _leave(stack, exc)
            raise
        return cls(stack, stream)

    async def exchange(self, payload: bytes) -> Any:
        """Send one goal state and return its reply; the agent's status when it ended."""
        try:
            await self.stream.send_message(payload)
            reply = await self.stream.recv_message()
        except StreamTerminatedError as exc:
            await _raise_status_of_reset(self.stack, exc)
        if reply is None:
            # The agent ended the stream: its trailers say why (GRPCError), else it is
            # a protocol error.
            await self.stack.aclose()
            raise ProtocolError("the agent ended the push session without a reply")
        return reply

    async def close(self) -> None:
        """End the stream cleanly (half-close, then the agent's trailers)."""
        with contextlib.suppress(Exception):
            await self.stream.end()
            await self.stack.aclose()

    async def abort(self, exc: BaseException) -> None:
        """Drop the stream after a failure (grpclib resets it without waiting)."""
        await _leave(self.stack, exc)


async def _raise_status_of_reset(
    stack: contextlib.AsyncExitStack, exc: StreamTerminatedError
) -> NoReturn:
    """Raise what a reset stream says: the status the agent sent before resetting it
    (grpclib raises it as GRPCError on leaving the stream), else `exc` itself."""
    await stack.__aexit__(type(exc), exc, exc.__traceback__)
    raise exc


async def _leave(stack: contextlib.AsyncExitStack, exc: BaseException) -> None:
    """Leave a stream's context after `exc`: grpclib resets it and waits for nothing (a
    clean exit would wait for trailers, and refuse a stream never half-closed)."""
    with contextlib.suppress(Exception):
        await stack.__aexit__(type(exc), exc, exc.__traceback__)


def _status_error(exc: GRPCError, addr: tuple[str, int], request_id: str) -> TransportError:
    if exc.status == Status.UNIMPLEMENTED:
        return NotSupported(f"{addr[0]}:{addr[1]} does not serve it: {exc.message}")
    kind = {Status.DEADLINE_EXCEEDED: "deadline", Status.UNAVAILABLE: "transport_error"}.get(
        exc.status, "protocol_error"
    )
    return TransportError(
        f"{addr[0]}:{addr[1]} answered {exc.status.name}: {exc.message} (request {request_id})",
        kind,
    )


@contextlib.asynccontextmanager
async def transport(config: Mapping[str, Any] | None = None) -> AsyncIterator[GrpcTransport]:
    """Run a started GrpcTransport for the duration of the block (tests, tools)."""
    t = GrpcTransport(SouthboundContext(config=config or {}))
    await t.start()
    try:
        yield t
    finally:
        await t.stop()
