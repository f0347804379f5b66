"""gRPC southbound transport on the C-core `grpcio` (grpc.aio): the same calls as `grpc`.

The grpclib transport frames HTTP/2 in pure Python (grpclib, h2, hpack); here the C core
does it on its own threads and the event loop only hands over bytes and takes the reply.
Wire, methods and error kinds are those of the `grpc` transport, so agents cannot tell them
apart and a node switches with `transport = "grpcio"`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import grpc
from grpc import aio

from alcor.proto import schema
from alcor.southbound.base import NodeTarget, NotSupported, SouthboundContext, TransportError
from alcor.southbound.channel_pool import ChannelPool
from alcor.southbound.wire import decode_reply

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

_SERVICE = "/alcor.schema.GoalStateProvisioner/"
PUSH_V1 = _SERVICE + "PushNetworkResourceStates"
PUSH_V2 = _SERVICE + "PushGoalStatesStream"
PUSH_SUBSCRIBE_INFO = "/alcor.schema.SubscribeInfoProvisioner/PushNodeSubscribeInfo"
GET_INVENTORY = "/alcor.schema.AgentInventory/GetInventory"

_READY = grpc.ChannelConnectivity.READY
_FAILED = (grpc.ChannelConnectivity.TRANSIENT_FAILURE, grpc.ChannelConnectivity.SHUTDOWN)


@dataclass(frozen=True, slots=True)
class GrpcioConfig:
    """The `[southbound.grpcio]` section."""

    connect_timeout_s: float = 5.0
    channel_idle_close_s: float = 300.0
    # grpcio refuses replies above 4 MB by default; an inventory with entries is larger.
    max_receive_mb: int = 1024

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> GrpcioConfig:
        """Build from a config section; an unknown key raises ValueError naming it."""
        for key in section:
            if key not in cls.__dataclass_fields__:
                raise ValueError(f"southbound.grpcio.{key}: unknown key")
        return cls(**section)


class _Unreachable(Exception):
    """The channel could not connect (refused, unreachable or connect timeout)."""


class GrpcioTransport:
    """Push goal states on `PushGoalStatesStream` (or V1 `PushNetworkResourceStates`).

    One grpc.aio channel per agent address, created on first use, closed after
    `channel_idle_close_s` without calls and replaced after a connection failure (a fresh
    channel dials at once, where a failed one would wait out grpcio's reconnect backoff).
    """

    name: ClassVar[str] = "grpcio"

    def __init__(self, ctx: SouthboundContext) -> None:
        self.config = GrpcioConfig.from_mapping(ctx.config)
        self._pool: ChannelPool[aio.Channel] = ChannelPool(self._open, self._close)
        self._tasks: set[asyncio.Task[None]] = set()  # channels being closed
        self._reaper: asyncio.Task[None] | None = None
        self._options = [
            ("grpc.max_receive_message_length", self.config.max_receive_mb * 2**20),
            ("grpc.max_send_message_length", -1),
            # C-core shares subchannels between channels to the same address by default, so
            # a fresh channel would inherit the failed one's reconnect backoff.
            ("grpc.use_local_subchannel_pool", 1),
        ]

    async def start(self) -> None:
        """Start the idle-channel reaper."""
        self._reaper = asyncio.create_task(
            self._pool.reap(self.config.channel_idle_close_s), name="grpcio-transport-reaper"
        )

    async def stop(self) -> None:
        """Cancel the reaper and close every channel (calls in flight fail)."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._tasks.add(self._reaper)
            self._reaper = None
        self._pool.close_all()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def forget_node(self, node_id: str) -> None:
        """Close the channels opened for `node_id`."""
        self._pool.forget(node_id)

    async def push(
        self, node: NodeTarget, payload: bytes, *, request_id: str, timeout: float
    ) -> schema.GoalStateOperationReply:
        """Send one encoded goal state and return the agent's single reply.

        V2 nodes get one `PushGoalStatesStream` call with exactly one message each way;
        `grpc_api="v1"` nodes the unary `PushNetworkResourceStates`.
        """
        v1 = node.grpc_api == "v1"

        async def exchange(channel: aio.Channel) -> schema.GoalStateOperationReply:
            if v1:
                return await _unary(channel, PUSH_V1, payload, timeout, decode_reply)
            return await _one_reply(channel, payload, timeout)

        method = PUSH_V1 if v1 else PUSH_V2
        reply: schema.GoalStateOperationReply = await self._call(
            node, node.server_port, method, exchange, timeout, request_id
        )
        return reply

    async def push_subscribe_info(
        self, node: NodeTarget, info: schema.NodeSubscribeInfo, *, timeout: float
    ) -> schema.SubscribeOperationReply:
        """Call `SubscribeInfoProvisioner.PushNodeSubscribeInfo` on the node's subscribe port."""
        port = node.subscribe_port or node.server_port + 1
        reply: schema.SubscribeOperationReply = await self._call(
            node,
            port,
            PUSH_SUBSCRIBE_INFO,
            lambda ch: _unary(
                ch,
                PUSH_SUBSCRIBE_INFO,
                bytes(info),
                timeout,
                schema.SubscribeOperationReply().parse,
            ),
            timeout,
            "",
        )
        return reply

    async def inventory(
        self, node: NodeTarget, *, entries: bool, timeout: float
    ) -> schema.InventoryReply:
        """Ask the agent what it holds (AgentInventory.GetInventory, an alcor extension).

        Raises NotSupported when the agent does not serve it (ACA), TransportError else.
        """
        request = bytes(schema.InventoryRequest(format_version=1, entries=entries))
        reply: schema.InventoryReply = await self._call(
            node,
            node.server_port,
            GET_INVENTORY,
            lambda ch: _unary(ch, GET_INVENTORY, request, timeout, schema.InventoryReply().parse),
            timeout,
            "",
        )
        return reply

    async def _call(
        self,
        node: NodeTarget,
        port: int,
        method: str,
        call: Callable[[aio.Channel], Any],
        timeout: float,
        request_id: str,
    ) -> Any:
        addr = (node.local_ip, port)
        where = f"{method} to {addr[0]}:{port}"
        pooled = self._pool.get(node.node_id, addr)
        try:
            with self._pool.using(pooled):
                async with asyncio.timeout(timeout):
                    await self._connect(pooled.channel)
                    return await call(pooled.channel)
        except TimeoutError as exc:
            raise TransportError(
                f"{where}: deadline of {timeout} s exceeded (request {request_id})", "deadline"
            ) from exc
        except _Unreachable as exc:
            self._pool.drop(addr, pooled)
            raise TransportError(f"{where}: {exc}", "transport_error") from exc
        except aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                self._pool.drop(addr, pooled)
            raise _status_error(exc, where, request_id) from exc

    async def _connect(self, channel: aio.Channel) -> None:
        """Wait until the channel is READY; fail at once when it cannot connect."""
        state = channel.get_state(try_to_connect=True)
        if state is _READY:
            return
        try:
            async with asyncio.timeout(self.config.connect_timeout_s):
                while state is not _READY:
                    if state in _FAILED:
                        raise _Unreachable("connection failed")
                    await channel.wait_for_state_change(state)
                    state = channel.get_state(try_to_connect=True)
        except TimeoutError as exc:
            raise _Unreachable(
                f"connect timed out after {self.config.connect_timeout_s} s"
            ) from exc

    def _open(self, addr: tuple[str, int]) -> aio.Channel:
        return aio.insecure_channel(f"{addr[0]}:{addr[1]}", options=self._options)

    def _close(self, channel: aio.Channel) -> None:
        # grpc.aio closes asynchronously; the task is owned and awaited by stop().
        task = asyncio.create_task(channel.close(), name="grpcio-channel-close")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close_idle(self, used_before: float) -> int:
        """Close channels not used since `used_before` (monotonic); return how many."""
        return self._pool.close_idle(used_before)

    def channel_count(self) -> int:
        """Return the number of open (pooled) channels."""
        return len(self._pool)


async def _one_reply(
    channel: aio.Channel, payload: bytes, timeout: float
) -> schema.GoalStateOperationReply:
    """One PushGoalStatesStream exchange: one goal state out, exactly one reply back."""
    call = channel.stream_stream(PUSH_V2)(timeout=timeout)
    try:
        await call.write(payload)
        await call.done_writing()
        reply = await call.read()
        if reply is aio.EOF:
            # A lost connection also ends the stream without a reply: its status says so.
            await _raise_status(call)
            raise TransportError(f"{PUSH_V2}: the agent finished without a reply", "protocol_error")
        if await call.read() is not aio.EOF:
            raise TransportError(f"{PUSH_V2}: the agent sent more than one reply", "protocol_error")
        await _raise_status(call)
    except BaseException:
        call.cancel()
        raise
    return decode_reply(reply)


async def _unary(
    channel: aio.Channel, method: str, payload: bytes, timeout: float, parse: Callable[[bytes], T]
) -> T:
    reply = await channel.unary_unary(method)(payload, timeout=timeout)
    return parse(reply)


async def _raise_status(call: Any) -> None:
    """Raise the call's error when it ended with a status other than OK (after its replies)."""
    if await call.code() is not grpc.StatusCode.OK:
        raise aio.AioRpcError(
            await call.code(),
            await call.initial_metadata(),
            await call.trailing_metadata(),
            await call.details(),
        )


def _status_error(exc: aio.AioRpcError, where: str, request_id: str) -> TransportError:
    code = exc.code()
    if code is grpc.StatusCode.UNIMPLEMENTED:
        return NotSupported(f"{where}: not served: {exc.details()}")
    kind = {
        grpc.StatusCode.DEADLINE_EXCEEDED: "deadline",
        grpc.StatusCode.UNAVAILABLE: "transport_error",
        grpc.StatusCode.CANCELLED: "transport_error",
    }.get(code, "protocol_error")
    return TransportError(
        f"{where} answered {code.name}: {exc.details()} (request {request_id})", kind
    )


@contextlib.asynccontextmanager
async def transport(config: Mapping[str, Any] | None = None) -> AsyncIterator[GrpcioTransport]:
    """Run a started GrpcioTransport for the duration of the block (tests, tools)."""
    t = GrpcioTransport(SouthboundContext(config=config or {}))
    await t.start()
    try:
        yield t
    finally:
        await t.stop()
