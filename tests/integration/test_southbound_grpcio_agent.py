"""Agents built from the same .proto files by another gRPC implementation (grpcio + Google
protobuf) work with alcor unchanged: pushes arrive, replies make ports ACTIVE, and the
controller answers their RequestGoalStates."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from aiohttp.test_utils import TestClient, TestServer

from alcor.api.web import make_web_app
from alcor.app import build
from alcor.southbound.commands import WaitIdle


def _agent_servicer(pb: Any, received: list[Any]) -> Any:
    gsp, common = pb.goalstateprovisioner_grpc, pb.common

    class Servicer(gsp.GoalStateProvisionerServicer):
        """A minimal ACA-like agent: one GoalStateV2 in, one reply out, SUCCESS for ports."""

        async def PushGoalStatesStream(self, request_iterator, context):
            async for goal_state in request_iterator:
                received.append(goal_state)
                statuses = [
                    pb.goalstateprovisioner.GoalStateOperationReply.GoalStateOperationStatus(
                        resource_id=state.configuration.id,
                        resource_type=common.PORT,
                        operation_type=state.operation_type,
                        operation_status=common.SUCCESS,
                    )
                    for state in goal_state.port_states.values()
                ]
                yield pb.goalstateprovisioner.GoalStateOperationReply(
                    format_version=102, operation_statuses=statuses
                )
                return

    return Servicer()


@pytest.fixture
async def grpcio_agents(pb: Any) -> Any:
    """Two grpcio agents on 127.3.0.1 and 127.3.0.2 (ephemeral ports)."""
    agents = []
    for ip in ("127.3.0.1", "127.3.0.2"):
        received: list[Any] = []
        server = grpc.aio.server()
        pb.goalstateprovisioner_grpc.add_GoalStateProvisionerServicer_to_server(
            _agent_servicer(pb, received), server
        )
        port = server.add_insecure_port(f"{ip}:0")
        await server.start()
        agents.append((ip, port, received, server))
    yield agents
    for _, _, _, server in agents:
        await server.stop(None)


@pytest.mark.parametrize("default", ["grpc", "grpcio"])
async def test_grpcio_agents_program_ports_and_query_the_controller(
    make_config, pb, grpcio_agents, default
):
    """Ports bound to grpcio agents go ACTIVE over the default transport (grpclib's, or the
    grpcio plugin's); RequestGoalStates from grpcio is answered."""
    alcor = build(make_config(**{"southbound.default_transport": default}))
    async with TestClient(TestServer(make_web_app(alcor))) as client:
        for i, (ip, port, _, _) in enumerate(grpcio_agents):
            resp = await client.post(
                "/nodes",
                json={
                    "host_info": {
                        "node_id": f"g{i}",
                        "node_name": f"grpcio-{i}",
                        "local_ip": ip,
                        "server_port": port,
                        "mac_address": f"52:54:00:00:01:0{i}",
                    }
                },
            )
            assert resp.status == 201
        net = (await (await client.post("/v2.0/networks", json={"network": {}})).json())["network"]
        await client.post(
            "/v2.0/subnets", json={"subnet": {"network_id": net["id"], "cidr": "10.20.0.0/24"}}
        )
        ports = []
        for i in range(2):
            resp = await client.post(
                "/v2.0/ports",
                json={"port": {"network_id": net["id"], "binding:host_id": f"grpcio-{i}"}},
            )
            ports.append((await resp.json())["port"])
        await alcor.bus.call(WaitIdle(timeout=20))
        assert {t.name for t in alcor.southbound.transports.started()} == {default}
        for port in ports:
            shown = await (await client.get(f"/v2.0/ports/{port['id']}")).json()
            assert shown["port"]["status"] == "ACTIVE"
        neighbors = {key for gs in grpcio_agents[0][2] for key in gs.neighbor_states}
        assert neighbors == {f"{p['id']}_n" for p in ports}
        first = grpcio_agents[0][2][0]
        assert list(first.host_resources) == [grpcio_agents[0][0]]
        assert first.port_states[ports[0]["id"]].configuration.update_type == pb.common.FULL

        # The controller's RequestGoalStates, called by a grpcio client from the agent's IP.
        dataplane = alcor.southbound
        gps = pb.goalstateprovisioner
        request = gps.HostRequest(
            format_version=1,
            state_requests=[
                gps.HostRequest.ResourceStateRequest(
                    request_type=pb.common.AGENT_RESTARTED, request_id="r1"
                )
            ],
        )
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{dataplane.server_port}", options=[("grpc.primary_user_agent", "aca")]
        ) as channel:
            stub = pb.goalstateprovisioner_grpc.GoalStateProvisionerStub(channel)
            reply = await asyncio.wait_for(stub.RequestGoalStates(request), 10)
        # 127.0.0.1 is no registered node: FAILURE for every request, as specified.
        assert [(s.request_id, s.operation_status) for s in reply.operation_statuses] == [
            ("r1", pb.common.FAILURE)
        ]
