"""Measure the reference agent: pool start-up and idle RSS, apply time and memory, pushes.

Run: .venv/bin/python scripts/bench_agent.py pool [N] | apply [N] | push [N [NEIGHBORS]]
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import tracemalloc

from bench_encoding import SUBNET_ID, VPC_ID, neighbor_bytes  # scripts/ is on sys.path

from alcor.agent import AgentConfig, AgentPool, AgentState, Applier
from alcor.proto import schema
from alcor.southbound import encoding

RT = schema.ResourceType
TUNNEL = 1001


def rss_mb() -> float:
    """Return this process's resident set size in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def context_payload() -> bytes:
    """VPC + subnet for the neighbors."""
    sub = schema.SubnetState(
        schema.OperationType.INFO,
        schema.SubnetConfiguration(
            revision_number=1,
            id=SUBNET_ID,
            vpc_id=VPC_ID,
            cidr="10.0.0.0/8",
            tunnel_id=TUNNEL,
            gateway=schema.SubnetConfigurationGateway("10.0.0.1", "fa:16:3e:00:00:01"),
        ),
    )
    vpc = schema.VpcState(
        schema.OperationType.INFO,
        schema.VpcConfiguration(revision_number=1, id=VPC_ID, tunnel_id=TUNNEL),
    )
    return encoding.assemble_goal_state_v2(
        "h",
        [(RT.SUBNET, SUBNET_ID), (RT.VPC, VPC_ID)],
        {
            3: [encoding.v2_entry(RT.VPC, VPC_ID, bytes(vpc))],
            4: [encoding.v2_entry(RT.SUBNET, SUBNET_ID, bytes(sub))],
        },
    )


def _payload(n: int) -> bytes:
    entries, resources = [], []
    for i in range(n):
        key, data = neighbor_bytes(i)
        entries.append(encoding.v2_entry(RT.NEIGHBOR, key, data))
        resources.append((RT.NEIGHBOR, key))
    return encoding.assemble_goal_state_v2("127.0.0.1", resources, {7: entries})


def bench_apply(n: int) -> None:
    """Apply n neighbors in one GoalStateV2 to one agent state; print time, then memory."""
    payload = _payload(n)
    applier = Applier(AgentState("127.0.0.1"))
    applier.apply_v2(context_payload())
    gc.collect()
    t, cpu = time.perf_counter(), time.process_time()
    applier.apply_v2(payload)
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    ok = applier.state.counters["NEIGHBOR:SUCCESS"]
    print(
        f"apply {n:,} neighbors ({ok:,} SUCCESS): {elapsed:.2f} s wall, {cpu:.2f} s CPU "
        f"({cpu / n * 1e6:.1f} µs CPU each)"
    )
    del applier
    # Memory on a fresh state, traced (slower, so not timed, and at most 100k neighbors):
    # what the tables retain per neighbor.
    if n > 100_000:
        n = 100_000
        payload = _payload(n)
    applier = Applier(AgentState("127.0.0.1"))
    applier.apply_v2(context_payload())
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    applier.apply_v2(payload)
    del payload
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    print(
        f"  retained by the tables: {retained / 2**20:.0f} MiB = {retained / n:.0f} B/neighbor "
        f"(neighbors={len(applier.state.neighbors):,}, process RSS {rss_mb():.0f} MiB)"
    )


async def bench_pool(count: int) -> None:
    """Start `count` agents that resync from a stand-in controller; print time and RSS."""
    from alcor_grpc.server import ControllerGrpcServer

    async def handler(peer_ip: str, request: schema.HostRequest) -> schema.HostRequestReply:
        return schema.HostRequestReply(
            format_version=1,
            operation_statuses=[
                schema.HostRequestReplyHostRequestOperationStatus(r.request_id)
                for r in request.state_requests
            ],
        )

    controller = ControllerGrpcServer("127.0.0.1", 0, handler)
    await controller.start()
    assert controller.port is not None
    gc.collect()
    before = rss_mb()
    pool = AgentPool(
        AgentConfig(ip="127.3.0.1", port=50001, controller=("127.0.0.1", controller.port)),
        count=count,
    )
    t = time.perf_counter()
    await pool.start()
    serving = time.perf_counter() - t
    await pool.wait_restarted()
    resynced = time.perf_counter() - t
    gc.collect()
    after = rss_mb()
    print(
        f"{count} agents serving in {serving:.2f} s, all AGENT_RESTARTED answered in "
        f"{resynced:.2f} s; idle RSS +{after - before:.1f} MiB = "
        f"{(after - before) * 1024 / count:.0f} KiB/agent (process {after:.0f} MiB)"
    )
    await pool.stop()
    await controller.stop()


async def bench_push(n: int, neighbors: int = 0) -> None:
    """Push `n` small goal states (plus `neighbors` neighbor states) over gRPC to one agent."""
    from alcor.agent import Agent
    from alcor.southbound.base import NodeTarget
    from alcor_grpc.transport import transport

    agent = Agent(AgentConfig(ip="127.3.1.1", port=0))
    await agent.start()
    node = NodeTarget(node_id="n", node_name="n", local_ip=agent.ip, server_port=agent.port)
    entries = [encoding.v2_entry(RT.NEIGHBOR, *neighbor_bytes(i)) for i in range(neighbors)]
    keys = [(RT.NEIGHBOR, neighbor_bytes(i)[0]) for i in range(neighbors)]
    try:
        async with transport() as t:
            await t.push(node, context_payload(), request_id="ctx", timeout=10)
            times = []
            for i in range(n):
                payload = encoding.assemble_goal_state_v2(agent.ip, keys, {7: entries})
                start = time.perf_counter()
                await t.push(node, payload, request_id=str(i), timeout=600)
                times.append(time.perf_counter() - start)
        times.sort()
        print(
            f"push with {neighbors} neighbors over gRPC (agent apply included): "
            f"p50 {times[len(times) // 2] * 1e3:.2f} ms, "
            f"p99 {times[int(len(times) * 0.99)] * 1e3:.2f} ms over {n}"
        )
    finally:
        await agent.stop()


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "pool"
    if what == "pool":
        asyncio.run(bench_pool(int(sys.argv[2]) if len(sys.argv) > 2 else 500))
    elif what == "push":
        asyncio.run(
            bench_push(
                int(sys.argv[2]) if len(sys.argv) > 2 else 1000,
                int(sys.argv[3]) if len(sys.argv) > 3 else 0,
            )
        )
    else:
        bench_apply(int(sys.argv[2]) if len(sys.argv) > 2 else 100_000)
