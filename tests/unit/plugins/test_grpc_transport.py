"""The gRPC transports (grpclib's `grpc`, C-core `grpcio`) against real grpclib agent stand-ins
on loopback: the same calls, replies and error kinds from both."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from grpclib.const import Cardinality, Handler, Status
from grpclib.exceptions import GRPCError

from alcor.proto import schema
from alcor.southbound import encoding
from alcor.southbound.base import NodeTarget, NotSupported, SouthboundContext, TransportError
from alcor_grpc.transport import GrpcConfig, GrpcTransport
from alcor_grpc.transport import transport as grpclib_transport
from alcor_grpc.wire import (
    GET_INVENTORY,
    PUSH_SESSION,
    PUSH_SUBSCRIBE_INFO,
    PUSH_V1,
    PUSH_V2,
    Raw,
    bind_socket,
)
from alcor_grpc.wire import ClosingServer as Server
from alcor_grpcio.transport import GrpcioTransport

RT = schema.ResourceType


class StandIn:
    """A scriptable agent: records raw requests, answers `replies` replies, or misbehaves."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.replies = 1
        self.status: Status | None = None
        self.block: asyncio.Event | None = None

    def _reply(self, payload: bytes) -> schema.GoalStateOperationReply:
        gs = schema.GoalStateV2().parse(payload)
        return schema.GoalStateOperationReply(
            format_version=102,
            operation_statuses=[
                schema.GoalStateOperationReplyGoalStateOperationStatus(
                    resource_id=k, resource_type=RT.PORT, operation_type=s.operation_type
                )
                for k, s in gs.port_states.items()
            ],
        )

    async def _stream(self, stream: Any) -> None:
        payload = await stream.recv_message()
        self.received.append(("v2", payload))
        if self.block is not None:
            await self.block.wait()
        if self.status is not None:
            raise GRPCError(self.status, "scripted")
        for _ in range(self.replies):
            await stream.send_message(self._reply(payload))

    async def _unary(self, stream: Any) -> None:
        payload = await stream.recv_message()
        self.received.append(("v1", payload))
        gs = schema.GoalState().parse(payload)
        await stream.send_message(
            schema.GoalStateOperationReply(
                format_version=101, message_total_operation_time=len(gs.port_states)
            )
        )

    async def _subscribe(self, stream: Any) -> None:
        info = await stream.recv_message()
        self.received.append(("sub", bytes(info)))
        await stream.send_message(
            schema.SubscribeOperationReply(
                schema.OperationStatus.INVALID_ARG
                if not info.topic
                else schema.OperationStatus.SUCCESS
            )
        )

    @staticmethod
    async def _unimplemented(stream: Any) -> None:
        raise GRPCError(Status.UNIMPLEMENTED, "as ACA answers GetInventory")

    def __mapping__(self) -> dict[str, Handler]:
        return {
            GET_INVENTORY: Handler(
                self._unimplemented,
                Cardinality.UNARY_UNARY,
                schema.InventoryRequest,
                schema.InventoryReply,
            ),
            PUSH_V2: Handler(
                self._stream, Cardinality.STREAM_STREAM, Raw, schema.GoalStateOperationReply
            ),
            PUSH_V1: Handler(
                self._unary, Cardinality.UNARY_UNARY, Raw, schema.GoalStateOperationReply
            ),
            PUSH_SUBSCRIBE_INFO: Handler(
                self._subscribe,
                Cardinality.UNARY_UNARY,
                schema.NodeSubscribeInfo,
                schema.SubscribeOperationReply,
            ),
        }


async def _serve(handler: StandIn, port: int = 0) -> tuple[Server, int]:
    from alcor_grpc.wire import CODEC

    sock = bind_socket("127.0.0.1", port)
    server = Server([handler], codec=CODEC)
    await server.start(sock=sock)
    return server, sock.getsockname()[1]


async def _close(server: Server) -> None:
    server.close()
    await server.wait_closed()


@pytest.fixture
async def agent():
    """A stand-in agent on 127.0.0.1 with an ephemeral port: (handler, port)."""
    handler = StandIn()
    server, port = await _serve(handler)
    yield handler, port
    if handler.block is not None:
        handler.block.set()
    await _close(server)


@pytest.fixture
async def grpc_transport(push_transport):
    """A started transport (each gRPC plugin) with default config."""
    async with push_transport() as t:
        yield t


def _node(port: int, **kw: Any) -> NodeTarget:
    return NodeTarget(
        node_id="n1", node_name="host-1", local_ip="127.0.0.1", server_port=port, **kw
    )


def _payload() -> bytes:
    state = schema.PortState(
        schema.OperationType.CREATE,
        schema.PortConfiguration(revision_number=1, id="p1", update_type=schema.UpdateType.FULL),
    )
    entry = encoding.v2_entry(RT.PORT, "p1", encoding.encode_state(state))
    return encoding.assemble_goal_state_v2("127.0.0.1", [(RT.PORT, "p1")], {5: [entry]})


async def test_push_round_trip_sends_the_bytes_unchanged(agent, grpc_transport):
    """The payload reaches the agent byte for byte and its single reply comes back."""
    handler, port = agent
    payload = _payload()
    reply = await grpc_transport.push(_node(port), payload, request_id=str(uuid.uuid4()), timeout=5)
    assert handler.received == [("v2", payload)]
    assert [(s.resource_id, s.operation_type) for s in reply.operation_statuses] == [
        ("p1", schema.OperationType.CREATE)
    ]
    # The channel is pooled and reused for the next push.
    await grpc_transport.push(_node(port), payload, request_id="r2", timeout=5)
    assert grpc_transport.channel_count() == 1


async def test_v1_nodes_get_the_unary_call(agent, grpc_transport):
    """grpc_api=v1 uses PushNetworkResourceStates with the V1 GoalState bytes."""
    handler, port = agent
    state = schema.PortState(schema.OperationType.CREATE, schema.PortConfiguration(id="p1"))
    payload = encoding.assemble_goal_state_v1([(RT.PORT, "p1", bytes(state))])
    reply = await grpc_transport.push(
        _node(port, grpc_api="v1"), payload, request_id="r", timeout=5
    )
    assert handler.received == [("v1", payload)]
    assert (reply.format_version, reply.message_total_operation_time) == (101, 1)


async def test_deadline_maps_to_deadline(agent, grpc_transport):
    """An agent that does not answer within the timeout gives TransportError('deadline')."""
    handler, port = agent
    handler.block = asyncio.Event()
    with pytest.raises(TransportError) as err:
        await grpc_transport.push(_node(port), _payload(), request_id="r", timeout=0.2)
    assert err.value.kind == "deadline"


async def test_connection_refused_maps_to_transport_error(grpc_transport):
    """Nothing listening gives TransportError('transport_error') and no pooled channel."""
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(TransportError) as err:
        await grpc_transport.push(_node(port), _payload(), request_id="r", timeout=5)
    assert err.value.kind == "transport_error"
    assert grpc_transport.channel_count() == 0


@pytest.mark.parametrize(
    ("replies", "status"), [(0, None), (2, None), (1, Status.INTERNAL), (1, Status.UNIMPLEMENTED)]
)
async def test_zero_or_several_replies_or_bad_status_is_a_protocol_error(
    agent, grpc_transport, replies, status
):
    """ACA answers exactly once with OK; anything else is a protocol_error."""
    handler, port = agent
    handler.replies, handler.status = replies, status
    with pytest.raises(TransportError) as err:
        await grpc_transport.push(_node(port), _payload(), request_id="r", timeout=5)
    assert err.value.kind == "protocol_error"


async def test_channel_is_recreated_after_the_agent_restarts(grpc_transport):
    """After the agent goes away and comes back on the same port, pushes work again."""
    handler = StandIn()
    server, port = await _serve(handler)
    await grpc_transport.push(_node(port), _payload(), request_id="r1", timeout=5)
    await _close(server)
    with pytest.raises(TransportError) as err:
        await grpc_transport.push(_node(port), _payload(), request_id="r2", timeout=5)
    assert err.value.kind == "transport_error"
    server, _ = await _serve(handler, port)
    try:
        await grpc_transport.push(_node(port), _payload(), request_id="r3", timeout=5)
    finally:
        await _close(server)
    assert len(handler.received) == 2


async def test_idle_channels_are_closed_and_forget_node_drops_them(agent, grpc_transport):
    """close_idle() closes unused channels; forget_node() closes a node's channels."""
    _, port = agent
    await grpc_transport.push(_node(port), _payload(), request_id="r", timeout=5)
    assert grpc_transport.close_idle(used_before=0) == 0
    assert grpc_transport.close_idle(used_before=float("inf")) == 1
    await grpc_transport.push(_node(port), _payload(), request_id="r", timeout=5)
    await grpc_transport.forget_node("n1")
    assert grpc_transport.channel_count() == 0


async def test_idle_reaper_closes_channels_on_its_own(agent, push_transport):
    """With a tiny channel_idle_close_s, the reaper task closes the channel by itself."""
    _, port = agent
    async with push_transport({"channel_idle_close_s": 0.05}) as t:
        await t.push(_node(port), _payload(), request_id="r", timeout=5)
        while t.channel_count():
            await asyncio.sleep(0.01)


async def test_subscribe_info_goes_to_the_subscribe_port(agent, grpc_transport):
    """push_subscribe_info calls PushNodeSubscribeInfo on node.subscribe_port."""
    handler, port = agent
    node = NodeTarget(
        node_id="n1", node_name="h", local_ip="127.0.0.1", server_port=1, subscribe_port=port
    )
    info = schema.NodeSubscribeInfo(schema.SubscribeOperation.Unsubscribe, "alcor-vpc-v", "k")
    reply = await grpc_transport.push_subscribe_info(node, info, timeout=5)
    assert reply.operation_status == schema.OperationStatus.SUCCESS
    assert handler.received == [("sub", bytes(info))]


def test_unknown_config_key_is_rejected():
    """An unknown [southbound.grpc] or [southbound.grpcio] key raises ValueError naming it."""
    with pytest.raises(ValueError, match=r"southbound\.grpc\.conect_timeout_s"):
        GrpcTransport(SouthboundContext(config={"conect_timeout_s": 1}))
    with pytest.raises(ValueError, match=r"southbound\.grpcio\.conect_timeout_s"):
        GrpcioTransport(SouthboundContext(config={"conect_timeout_s": 1}))
    cfg = GrpcConfig.from_mapping({"deadline_base_s": 1, "deadline_per_state_ms": 2})
    assert cfg.push_deadline(1000) == 3.0


async def test_bound_sockets_give_accepted_connections_tcp_nodelay():
    """Accepted connections get TCP_NODELAY (else each call waits on delayed ACKs)."""
    import socket

    accepted: asyncio.Future = asyncio.get_running_loop().create_future()

    class Capture(asyncio.Protocol):
        def connection_made(self, transport):
            accepted.set_result(transport.get_extra_info("socket"))

    server = await asyncio.get_running_loop().create_server(
        Capture, sock=bind_socket("127.0.0.1", 0)
    )
    try:
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        sock = await accepted
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()


async def test_warmup_sends_one_empty_goal_state_per_connection(agent):
    """With warmup, a new channel first pushes an empty GoalStateV2, once."""
    handler, port = agent
    async with grpclib_transport({"warmup": True}) as t:
        await t.push(_node(port), _payload(), request_id="r1", timeout=5)
        await t.push(_node(port), _payload(), request_id="r2", timeout=5)
    assert [payload for _, payload in handler.received] == [b"", _payload(), _payload()]


async def test_inventory_of_an_agent_without_it_is_not_supported(agent, grpc_transport):
    """An agent that does not serve GetInventory (ACA) gives NotSupported, a protocol_error."""
    _, port = agent
    with pytest.raises(NotSupported) as err:
        await grpc_transport.inventory(_node(port), entries=False, timeout=5)
    assert err.value.kind == "protocol_error"


class SessionStandIn(StandIn):
    """A stand-in that also serves PushGoalStatesSession (as the reference agent does)."""

    def __init__(self, serve_sessions: bool = True) -> None:
        super().__init__()
        self.serve_sessions = serve_sessions
        self.sessions = 0  # streams opened

    async def _session(self, stream: Any) -> None:
        self.sessions += 1
        if not self.serve_sessions:
            raise GRPCError(Status.UNIMPLEMENTED, "as ACA answers an unknown method")
        await stream.send_initial_metadata()
        async for payload in stream:
            self.received.append(("session", payload))
            if self.block is not None:
                await self.block.wait()
            if self.status is not None:
                raise GRPCError(self.status, "scripted")
            await stream.send_message(self._reply(payload))

    def __mapping__(self) -> dict[str, Handler]:
        return {
            **super().__mapping__(),
            PUSH_SESSION: Handler(
                self._session, Cardinality.STREAM_STREAM, Raw, schema.GoalStateOperationReply
            ),
        }


@pytest.fixture
async def session_agent():
    """A stand-in agent serving push sessions: (handler, port)."""
    handler = SessionStandIn()
    server, port = await _serve(handler)
    yield handler, port
    if handler.block is not None:
        handler.block.set()
    await _close(server)


def _ports_of(reply: Any) -> list[str]:
    return [s.resource_id for s in reply.operation_statuses]


async def test_pushes_share_one_session_stream(session_agent):
    """Every push to an agent serving sessions goes on one open stream, one reply each."""
    handler, port = session_agent
    async with grpclib_transport() as t:
        for i in range(3):
            reply = await t.push(_node(port), _payload(), request_id=f"r{i}", timeout=5)
            assert _ports_of(reply) == ["p1"]
    assert handler.sessions == 1
    assert [kind for kind, _ in handler.received] == ["session"] * 3


async def test_an_agent_without_sessions_gets_one_call_per_push(push_transport):
    """UNIMPLEMENTED (ACA) falls back to PushGoalStatesStream, asked once per agent."""
    handler = SessionStandIn(serve_sessions=False)
    server, port = await _serve(handler)
    try:
        async with grpclib_transport() as t:
            for i in range(3):
                reply = await t.push(_node(port), _payload(), request_id=f"r{i}", timeout=5)
                assert _ports_of(reply) == ["p1"]
    finally:
        await _close(server)
    assert handler.sessions == 1
    assert [kind for kind, _ in handler.received] == ["v2"] * 3


async def test_sessions_off_in_config_push_one_call_each(session_agent):
    """`sessions = false` keeps to one PushGoalStatesStream call per push."""
    handler, port = session_agent
    async with grpclib_transport({"sessions": False}) as t:
        await t.push(_node(port), _payload(), request_id="r", timeout=5)
    assert (handler.sessions, [kind for kind, _ in handler.received]) == (0, ["v2"])


async def test_a_failed_session_push_is_an_error_and_the_next_opens_a_new_stream(session_agent):
    """A status from the agent ends the session (protocol_error); the next push reopens."""
    handler, port = session_agent
    async with grpclib_transport() as t:
        await t.push(_node(port), _payload(), request_id="r1", timeout=5)
        handler.status = Status.INVALID_ARGUMENT
        with pytest.raises(TransportError) as err:
            await t.push(_node(port), _payload(), request_id="r2", timeout=5)
        assert err.value.kind == "protocol_error"
        handler.status = None
        reply = await t.push(_node(port), _payload(), request_id="r3", timeout=5)
    assert _ports_of(reply) == ["p1"]
    assert handler.sessions == 2


async def test_a_session_push_past_its_deadline_is_not_answered_by_a_late_reply(session_agent):
    """After a deadline the session is dropped: the late reply cannot answer the next push."""
    handler, port = session_agent
    async with grpclib_transport() as t:
        handler.block = asyncio.Event()
        with pytest.raises(TransportError) as err:
            await t.push(_node(port), _payload(), request_id="r1", timeout=0.2)
        assert err.value.kind == "deadline"
        handler.block.set()
        handler.block = None
        reply = await t.push(_node(port), _payload(), request_id="r2", timeout=5)
    assert _ports_of(reply) == ["p1"]
    assert handler.sessions == 2


async def test_concurrent_pushes_to_one_agent_each_get_their_own_reply(session_agent):
    """A push beside one in flight (an on-demand push) takes a stream of its own."""
    handler, port = session_agent
    async with grpclib_transport() as t:
        replies = await asyncio.gather(
            *(t.push(_node(port), _payload(), request_id=f"r{i}", timeout=5) for i in range(4))
        )
        assert [_ports_of(r) for r in replies] == [["p1"]] * 4
        await t.push(_node(port), _payload(), request_id="r5", timeout=5)
    assert len(handler.received) == 5
    assert handler.sessions == 4  # one kept, three one-off; the fifth push reused the kept one


async def test_a_session_survives_nothing_of_an_agent_restart(push_transport):
    """After the agent restarts on the same port, the next push opens a new session."""
    handler = SessionStandIn()
    server, port = await _serve(handler)
    async with grpclib_transport() as t:
        await t.push(_node(port), _payload(), request_id="r1", timeout=5)
        await _close(server)
        with pytest.raises(TransportError) as err:
            await t.push(_node(port), _payload(), request_id="r2", timeout=5)
        assert err.value.kind == "transport_error"
        server, _ = await _serve(handler, port)
        try:
            await t.push(_node(port), _payload(), request_id="r3", timeout=5)
        finally:
            await _close(server)
    assert (handler.sessions, len(handler.received)) == (2, 2)


async def test_a_grpclib_agent_without_the_method_falls_back_every_time(agent):
    """grpclib's own "method not found" (no content-type: it reads as UNKNOWN, and it may
    race the reset) is a refusal too, however the answer and the reset interleave."""
    handler, port = agent
    for i in range(20):
        async with grpclib_transport() as t:
            reply = await t.push(_node(port), _payload(), request_id=f"r{i}", timeout=5)
        assert _ports_of(reply) == ["p1"]
    assert [kind for kind, _ in handler.received] == ["v2"] * 20


async def test_an_agent_that_comes_back_with_sessions_is_asked_again(push_transport):
    """A refusal is remembered until the connection breaks: a restarted (upgraded) agent
    on the same address gets a session."""
    old = SessionStandIn(serve_sessions=False)
    server, port = await _serve(old)
    async with grpclib_transport() as t:
        await t.push(_node(port), _payload(), request_id="r1", timeout=5)
        await _close(server)
        with pytest.raises(TransportError):
            await t.push(_node(port), _payload(), request_id="r2", timeout=5)
        new = SessionStandIn()
        server, _ = await _serve(new, port)
        try:
            await t.push(_node(port), _payload(), request_id="r3", timeout=5)
        finally:
            await _close(server)
    assert [kind for kind, _ in old.received] == ["v2"]
    assert (new.sessions, [kind for kind, _ in new.received]) == (1, ["session"])
