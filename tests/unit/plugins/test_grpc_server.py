"""The controller's servers (grpclib's and grpcio's): RequestGoalStates with the peer's IP; the
pushes are UNIMPLEMENTED."""

from __future__ import annotations

import pytest
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from alcor.proto import schema
from alcor_grpc.server import ControllerGrpcServer
from alcor_grpcio.server import ControllerGrpcioServer, peer_ip


@pytest.fixture(params=[ControllerGrpcServer, ControllerGrpcioServer], ids=["grpc", "grpcio"])
def server_class(request):
    """Each plugin's controller server."""
    return request.param


@pytest.fixture
async def controller(server_class):
    """A started server on 127.0.0.1:0 whose handler records (peer_ip, request)."""
    calls: list[tuple[str, schema.HostRequest]] = []

    async def handler(peer_ip: str, request: schema.HostRequest) -> schema.HostRequestReply:
        calls.append((peer_ip, request))
        return schema.HostRequestReply(
            format_version=1,
            operation_statuses=[
                schema.HostRequestReplyHostRequestOperationStatus(r.request_id)
                for r in request.state_requests
            ],
        )

    server = server_class("127.0.0.1", 0, handler)
    await server.start()
    channel = Channel("127.0.0.1", server.port)
    yield schema.GoalStateProvisionerStub(channel), calls
    channel.close()
    await server.stop()


async def test_request_goal_states_reaches_the_handler_with_the_peer_ip(controller):
    """The handler gets the caller's IP and the request; its reply goes back."""
    stub, calls = controller
    request = schema.HostRequest(
        format_version=1,
        state_requests=[
            schema.HostRequestResourceStateRequest(
                schema.RequestType.AGENT_RESTARTED, request_id="r1"
            )
        ],
    )
    reply = await stub.request_goal_states(request, timeout=5)
    assert [s.request_id for s in reply.operation_statuses] == ["r1"]
    assert calls == [("127.0.0.1", request)]


@pytest.mark.parametrize(
    "call", ["push_network_resource_states", "push_goalstates", "push_goal_states_stream"]
)
async def test_push_methods_are_unimplemented(controller, call):
    """The three agent-side methods answer UNIMPLEMENTED."""
    stub, _ = controller
    arg = {
        "push_network_resource_states": schema.GoalState(),
        "push_goalstates": schema.NeighborRulesRequest(),
    }.get(call)
    with pytest.raises(GRPCError) as err:
        if arg is None:
            [r async for r in stub.push_goal_states_stream([schema.GoalStateV2()], timeout=5)]
        else:
            await getattr(stub, call)(arg, timeout=5)
    assert err.value.status is Status.UNIMPLEMENTED


async def test_stop_closes_open_connections(server_class):
    """After stop(), an already connected client cannot call any more (looks like a dead peer)."""

    async def handler(peer_ip, request):
        return schema.HostRequestReply()

    server = server_class("127.0.0.1", 0, handler)
    await server.start()
    channel = Channel("127.0.0.1", server.port)
    try:
        stub = schema.GoalStateProvisionerStub(channel)
        await stub.request_goal_states(schema.HostRequest(), timeout=5)
        await server.stop()
        with pytest.raises(OSError):  # ConnectionRefusedError once the old connection is gone
            await stub.request_goal_states(schema.HostRequest(), timeout=5)
    finally:
        channel.close()


@pytest.mark.parametrize(
    ("peer", "ip"),
    [
        ("ipv4:127.0.0.1:40001", "127.0.0.1"),
        ("ipv6:[::1]:40001", "::1"),
        ("ipv6:[::ffff:10.1.2.3]:40001", "10.1.2.3"),
    ],
)
def test_grpcio_peer_strings_give_the_ip(peer, ip):
    """grpcio's peer strings are reduced to the bare IP the handler expects."""
    assert peer_ip(peer) == ip
