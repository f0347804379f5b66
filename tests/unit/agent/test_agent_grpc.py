"""Reference agents on real loopback gRPC: pushes, start-up resync, on-demand, subscriptions."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest
from agent_helpers import (
    ST,
    TUNNEL,
    S,
    context,
    goal_state,
    goal_state_v1,
    neighbor,
    port,
    statuses,
)
from grpclib.client import Channel

from alcor.agent import Agent, AgentConfig, AgentPool, ApplyOptions
from alcor.southbound.base import NodeTarget
from alcor_grpc.server import ControllerGrpcServer
from alcor_grpc.transport import transport

Handler = Callable[[str, S.HostRequest], Awaitable[S.HostRequestReply]]


@pytest.fixture
def base_ip() -> str:
    """A random 127.X.Y.1 so concurrent test runs on this machine do not collide."""
    return f"127.{random.randint(100, 250)}.{random.randint(0, 250)}.1"


def _reply(request: S.HostRequest, status: ST) -> S.HostRequestReply:
    return S.HostRequestReply(
        format_version=1,
        operation_statuses=[
            S.HostRequestReplyHostRequestOperationStatus(r.request_id, status)
            for r in request.state_requests
        ],
    )


class StandInController:
    """A controller built from ControllerGrpcServer with a scriptable handler."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.calls: list[tuple[str, S.HostRequestResourceStateRequest]] = []
        self.handler = handler
        self.server = ControllerGrpcServer("127.0.0.1", 0, self._handle)

    async def _handle(self, peer_ip: str, request: S.HostRequest) -> S.HostRequestReply:
        self.calls.extend((peer_ip, r) for r in request.state_requests)
        if self.handler is not None:
            return await self.handler(peer_ip, request)
        return _reply(request, ST.SUCCESS)

    @property
    def address(self) -> tuple[str, int]:
        assert self.server.port is not None
        return "127.0.0.1", self.server.port


@pytest.fixture
async def controller():
    """A started stand-in controller (SUCCESS for everything unless scripted)."""
    c = StandInController()
    await c.server.start()
    yield c
    await c.server.stop()


@pytest.fixture
async def make_agent(base_ip):
    """Start agents on base_ip (+i) with ephemeral ports; stop them all afterwards."""
    agents: list[Agent] = []

    async def make(i: int = 0, **kw) -> Agent:
        ip = base_ip.rsplit(".", 1)[0] + f".{i + 1}"
        kw.setdefault("backoff_base_s", 0.01)
        kw.setdefault("backoff_cap_s", 0.05)
        agent = Agent(AgentConfig(ip=ip, port=0, **kw))
        await agent.start()
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        await agent.stop()


def _node(agent: Agent, **kw) -> NodeTarget:
    return NodeTarget(
        node_id=agent.node_id,
        node_name=agent.ip,
        local_ip=agent.ip,
        server_port=agent.port,
        subscribe_port=agent.subscribe_port,
        **kw,
    )


async def test_push_round_trip_through_the_transport(make_agent, push_transport):
    """Each gRPC transport → agent: one message, one reply with a status per state."""
    agent = await make_agent()
    async with push_transport() as t:
        reply = await t.push(
            _node(agent), goal_state(*context(), port(), neighbor()), request_id="r1", timeout=5
        )
        assert set(statuses(reply).values()) == {"SUCCESS"}
        assert len(reply.operation_statuses) == 4
        again = await t.push(_node(agent), goal_state(*context()), request_id="r2", timeout=5)
        assert set(statuses(again).values()) == {"OUT_OF_ORDER"}
        v1 = await t.push(
            _node(agent, grpc_api="v1"),
            goal_state_v1(neighbor(pid="p-z", ip="10.10.0.9", rev=1)),
            request_id="r3",
            timeout=5,
        )
        assert statuses(v1) == {("NEIGHBOR", "p-z"): "SUCCESS"}
    assert agent.state.arp_lookup("10.10.0.9", TUNNEL).port_id == "p-z"


async def test_agent_restarted_is_retried_until_success(make_agent):
    """At start the agent asks for AGENT_RESTARTED with its own IP and retries on FAILURE."""
    answers = [ST.FAILURE, ST.FAILURE, ST.SUCCESS]

    async def handler(peer_ip, request):
        return _reply(request, answers.pop(0))

    c = StandInController(handler)
    await c.server.start()
    try:
        agent = await make_agent(controller=c.address)
        await asyncio.wait_for(agent.restarted.wait(), 10)
    finally:
        await c.server.stop()
    assert [(ip, r.request_type) for ip, r in c.calls] == [
        (agent.ip, S.RequestType.AGENT_RESTARTED)
    ] * 3
    assert len({r.request_id for _, r in c.calls}) == 3
    assert agent.state.counters["restart_requests"] == 3


async def test_agent_restarted_survives_a_controller_that_starts_late(make_agent, base_ip):
    """Connection refused is retried like FAILURE until the controller appears."""
    c = StandInController()
    await c.server.start()
    address = c.address
    await c.server.stop()
    agent = await make_agent(controller=address)
    while agent.state.counters["restart_requests"] < 2:
        await asyncio.sleep(0.01)
    late = StandInController()
    late.server = ControllerGrpcServer(address[0], address[1], late._handle)
    await late.server.start()
    try:
        await asyncio.wait_for(agent.restarted.wait(), 10)
    finally:
        await late.server.stop()


async def test_arp_miss_asks_on_demand_and_answers_after_the_push(make_agent):
    """An ARP miss sends ON_DEMAND; the controller pushes the neighbor first, then SUCCESS."""
    agent: Agent | None = None

    async def handler(peer_ip, request):
        (req,) = request.state_requests
        if req.request_type == S.RequestType.AGENT_RESTARTED:
            return _reply(request, ST.SUCCESS)
        if req.destination_ip != "10.10.0.5":
            return _reply(request, ST.FAILURE)  # not routable
        async with transport() as t:
            await t.push(
                _node(agent), goal_state(*context(), neighbor()), request_id="od", timeout=5
            )
        return _reply(request, ST.SUCCESS)

    c = StandInController(handler)
    await c.server.start()
    try:
        agent = await make_agent(controller=c.address)
        hit = await agent.arp(TUNNEL, "10.10.0.5", "10.10.0.6")
        miss = await agent.arp(TUNNEL, "10.10.0.99", "10.10.0.6")
        again = await agent.arp(TUNNEL, "10.10.0.5", "10.10.0.6")
    finally:
        await c.server.stop()
    assert (hit["found"], hit["mac"], hit["on_demand"]) == (True, "fa:16:3e:aa:aa:aa", True)
    assert (miss["found"], miss["on_demand_status"]) == (False, "FAILURE")
    assert (again["found"], again["on_demand"]) == (True, False)
    od = [r for ip, r in c.calls if r.request_type == S.RequestType.ON_DEMAND]
    assert [(r.tunnel_id, r.source_ip, r.destination_ip, r.protocol) for r in od] == [
        (TUNNEL, "10.10.0.6", "10.10.0.5", S.Protocol.ARP),
        (TUNNEL, "10.10.0.6", "10.10.0.99", S.Protocol.ARP),
    ]
    assert all(r.ethertype == S.EtherType.IPV4 for r in od)


async def test_pending_until_plug_over_grpc(make_agent, push_transport):
    """A port CREATE answers PENDING until the port is plugged, then SUCCESS on retry."""
    agent = await make_agent(apply=ApplyOptions(pending_until_plug=True))
    async with push_transport() as t:
        first = await t.push(
            _node(agent), goal_state(*context(), port()), request_id="a", timeout=5
        )
        assert statuses(first)[("PORT", "p-b")] == "PENDING"
        agent.plug("p-b")
        second = await t.push(_node(agent), goal_state(port()), request_id="b", timeout=5)
        assert statuses(second)[("PORT", "p-b")] == "SUCCESS"


async def test_subscribe_info_is_stored_and_empty_topic_is_invalid(make_agent, push_transport):
    """PushNodeSubscribeInfo: Subscribe stores (and calls the hook), '' is INVALID_ARG."""
    agent = await make_agent()
    seen: list[tuple[str, str]] = []

    async def hook(topic: str, key: str) -> None:
        seen.append((topic, key))

    agent.on_subscribe = hook
    async with push_transport() as t:
        node = _node(agent)
        empty = await t.push_subscribe_info(node, S.NodeSubscribeInfo(), timeout=5)
        assert empty.operation_status == ST.INVALID_ARG
        ok = await t.push_subscribe_info(
            node,
            S.NodeSubscribeInfo(S.SubscribeOperation.Subscribe, "alcor-vpc-v1", agent.ip),
            timeout=5,
        )
        assert ok.operation_status == ST.SUCCESS
        assert agent.state.subscriptions["alcor-vpc-v1"]["key"] == agent.ip
        await t.push_subscribe_info(
            node,
            S.NodeSubscribeInfo(S.SubscribeOperation.Unsubscribe, "alcor-vpc-v1", agent.ip),
            timeout=5,
        )
    assert agent.state.subscriptions == {}
    assert seen == [("alcor-vpc-v1", agent.ip)]


async def test_agent_answers_unimplemented_for_controller_methods(make_agent):
    """RequestGoalStates and PushGoalstates are not served by agents."""
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    agent = await make_agent()
    channel = Channel(agent.ip, agent.port)
    try:
        with pytest.raises(GRPCError) as err:
            await S.GoalStateProvisionerStub(channel).request_goal_states(
                S.HostRequest(), timeout=5
            )
        assert err.value.status is Status.UNIMPLEMENTED
    finally:
        channel.close()


async def test_restart_wipes_state_and_resyncs(make_agent, controller):
    """restart() empties every table and sends AGENT_RESTARTED again."""
    agent = await make_agent(controller=controller.address)
    await agent.restarted.wait()
    agent.apply_goal_state_bytes(goal_state(*context(), neighbor()))
    assert agent.state.neighbors
    await agent.restart()
    assert not agent.state.neighbors and not agent.state.subnets
    await agent.restarted.wait()
    assert len(controller.calls) == 2


async def test_pool_of_50_agents_on_distinct_loopback_ips(controller, base_ip):
    """50 agents in one loop: each resyncs from its own IP and takes its own pushes."""
    pool = AgentPool(
        AgentConfig(ip=base_ip, port=0, controller=controller.address, backoff_base_s=0.01),
        count=50,
    )
    await pool.start()
    try:
        await asyncio.wait_for(pool.wait_restarted(), 30)
        ips = list(pool.agents)
        assert len(set(ips)) == 50
        assert sorted(ip for ip, _ in controller.calls) == sorted(ips)
        async with transport() as t:
            replies = await asyncio.gather(
                *(
                    t.push(
                        _node(pool.agent(ip)),
                        goal_state(*context(), neighbor(pid=f"p{i}")),
                        request_id=ip,
                        timeout=10,
                    )
                    for i, ip in enumerate(ips)
                )
            )
        assert all(set(statuses(r).values()) == {"SUCCESS"} for r in replies)
        assert list(pool.state(ips[7])["neighbors"]) == ["p7"]
        await pool.remove(ips[0])
        assert ips[0] not in pool.agents
    finally:
        await pool.stop()


async def test_malformed_payload_is_invalid_argument(make_agent, push_transport):
    """Bytes that are not a goal state answer INVALID_ARGUMENT (a protocol_error upstream)."""
    from alcor.southbound.base import TransportError

    agent = await make_agent()
    async with push_transport() as t:
        with pytest.raises(TransportError) as err:
            await t.push(_node(agent), b"\x3a\x05ab", request_id="bad", timeout=5)
    assert err.value.kind == "protocol_error"
    assert "INVALID_ARGUMENT" in str(err.value)


async def test_inventory_lists_what_the_agent_holds(make_agent, push_transport):
    """GetInventory through each transport: digests only, then the entries with revisions."""
    from alcor.southbound import inventory

    agent = await make_agent()
    async with push_transport() as t:
        node = _node(agent)
        await t.push(node, goal_state(*context(), neighbor(rev=3)), request_id="r", timeout=5)
        digests, held = inventory.decode_reply(await t.inventory(node, entries=False, timeout=5))
        assert digests and not any(held.values())
        _, held = inventory.decode_reply(await t.inventory(node, entries=True, timeout=5))
    assert {key: rev for entries in held.values() for key, rev in entries.items()}["p-a"] == 3
