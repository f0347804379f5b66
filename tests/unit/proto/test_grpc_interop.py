"""grpcio (Google's gRPC) and our grpclib + betterproto code talk to each other on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpclib.client import Channel

from alcor.proto import schema
from alcor_grpc.wire import ClosingServer, bind_socket

Status = schema.GoalStateOperationReplyGoalStateOperationStatus


class _OurProvisioner(schema.GoalStateProvisionerBase):
    """A grpclib server answering from what it received, so both directions are checked."""

    async def push_goal_states_stream(
        self, goal_state_v2_iterator: AsyncIterator[schema.GoalStateV2]
    ) -> AsyncIterator[schema.GoalStateOperationReply]:
        async for gs in goal_state_v2_iterator:
            yield _reply_for(list(gs.neighbor_states), schema.ResourceType.NEIGHBOR)
            return  # one in, one out, as ACA

    async def push_network_resource_states(self, goal_state):
        return _reply_for(
            [s.configuration.id for s in goal_state.port_states], schema.ResourceType.PORT
        )

    async def request_goal_states(self, host_request):
        return schema.HostRequestReply(
            format_version=1,
            operation_statuses=[
                schema.HostRequestReplyHostRequestOperationStatus(
                    r.request_id, schema.OperationStatus.FAILURE
                )
                for r in host_request.state_requests
            ],
        )


def _reply_for(ids: list[str], kind: schema.ResourceType) -> schema.GoalStateOperationReply:
    return schema.GoalStateOperationReply(
        format_version=102,
        operation_statuses=[
            Status(
                resource_id=i,
                resource_type=kind,
                operation_type=schema.OperationType.CREATE,
                operation_status=schema.OperationStatus.OUT_OF_ORDER,
                state_elapse_time=7,
            )
            for i in ids
        ],
        message_total_operation_time=2**31,
    )


@pytest.fixture
async def our_server():
    """A grpclib server with the test provisioner on 127.0.0.1, port 0."""
    sock = bind_socket("127.0.0.1", 0)
    server = ClosingServer([_OurProvisioner()])  # also closes the client's connection
    await server.start(sock=sock)
    yield sock.getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_grpcio_client_streams_one_goal_state_to_our_server(pb, our_server):
    """PushGoalStatesStream from grpcio: one GoalStateV2 in, one reply out, status OK."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{our_server}") as channel:
        stub = pb.goalstateprovisioner_grpc.GoalStateProvisionerStub(channel)
        gs = pb.goalstate.GoalStateV2(format_version=102)
        gs.neighbor_states["p1_n"].configuration.id = "p1"
        gs.neighbor_states["p2_n"].operation_type = pb.common.DELETE
        call = stub.PushGoalStatesStream(iter([gs]))
        replies = [r async for r in call]
        assert await call.code() == grpc.StatusCode.OK
    assert len(replies) == 1
    assert sorted(s.resource_id for s in replies[0].operation_statuses) == ["p1_n", "p2_n"]
    assert replies[0].operation_statuses[0].operation_status == pb.common.OUT_OF_ORDER
    assert replies[0].message_total_operation_time == 2**31


async def test_grpcio_client_unary_calls_to_our_server(pb, our_server):
    """PushNetworkResourceStates and RequestGoalStates from grpcio reach our handlers."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{our_server}") as channel:
        stub = pb.goalstateprovisioner_grpc.GoalStateProvisionerStub(channel)
        v1 = pb.goalstate.GoalState(format_version=101)
        v1.port_states.add().configuration.id = "port-1"
        reply = await stub.PushNetworkResourceStates(v1)
        assert [s.resource_id for s in reply.operation_statuses] == ["port-1"]
        assert reply.operation_statuses[0].resource_type == pb.common.PORT

        req = pb.goalstateprovisioner.HostRequest(format_version=1)
        req.state_requests.add(request_type=pb.common.AGENT_RESTARTED, request_id="r1")
        host_reply = await stub.RequestGoalStates(req)
        assert host_reply.operation_statuses[0].request_id == "r1"
        assert host_reply.operation_statuses[0].operation_status == pb.common.FAILURE


@pytest.fixture
async def grpcio_server(pb):
    """A grpcio aio server that echoes what it got, on 127.0.0.1, port 0."""
    gsp = pb.goalstateprovisioner
    common = pb.common

    class Servicer(pb.goalstateprovisioner_grpc.GoalStateProvisionerServicer):
        async def PushGoalStatesStream(self, request_iterator, context):
            async for gs in request_iterator:
                reply = gsp.GoalStateOperationReply(format_version=102)
                for key, state in gs.port_states.items():
                    reply.operation_statuses.add(
                        resource_id=key,
                        resource_type=common.PORT,
                        operation_type=state.operation_type,
                        operation_status=common.PENDING,
                    )
                yield reply
                return

        async def PushNetworkResourceStates(self, request, context):
            return gsp.GoalStateOperationReply(
                format_version=request.format_version,
                message_total_operation_time=len(request.neighbor_states),
            )

        async def RequestGoalStates(self, request, context):
            reply = gsp.HostRequestReply(format_version=1, total_operation_time=3)
            for r in request.state_requests:
                reply.operation_statuses.add(request_id=r.request_id + "!")
            return reply

    server = grpc.aio.server()
    pb.goalstateprovisioner_grpc.add_GoalStateProvisionerServicer_to_server(Servicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port
    await server.stop(None)


async def test_our_client_calls_grpcio_server(grpcio_server):
    """Our betterproto stubs over grpclib call a grpcio server for all three agent-side RPCs."""
    channel = Channel("127.0.0.1", grpcio_server)
    try:
        stub = schema.GoalStateProvisionerStub(channel)
        gs = schema.GoalStateV2(
            format_version=102,
            port_states={
                "p1": schema.PortState(
                    schema.OperationType.DELETE,
                    schema.PortConfiguration(revision_number=3, id="p1"),
                )
            },
        )
        replies = [r async for r in stub.push_goal_states_stream([gs], timeout=5)]
        assert len(replies) == 1
        (status,) = replies[0].operation_statuses
        assert (status.resource_id, status.operation_type, status.operation_status) == (
            "p1",
            schema.OperationType.DELETE,
            schema.OperationStatus.PENDING,
        )

        v1 = schema.GoalState(format_version=101, neighbor_states=[schema.NeighborState()] * 3)
        reply = await stub.push_network_resource_states(v1, timeout=5)
        assert (reply.format_version, reply.message_total_operation_time) == (101, 3)

        req = schema.HostRequest(
            state_requests=[
                schema.HostRequestResourceStateRequest(request_id="a"),
                schema.HostRequestResourceStateRequest(request_id="b"),
            ]
        )
        host_reply = await stub.request_goal_states(req, timeout=5)
        assert [s.request_id for s in host_reply.operation_statuses] == ["a!", "b!"]
        assert host_reply.total_operation_time == 3
    finally:
        channel.close()
