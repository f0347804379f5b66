"""Shared pieces of the Kafka tests: unique names per test, a scripted apply, goal states."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from alcor.proto import schema
from alcor.southbound import encoding
from alcor.southbound.base import NodeTarget
from alcor_kafka.agent_consumer import HostTopicConsumer, VpcTopicConsumer
from alcor_kafka.transport import KafkaTransport, agent_group

RT = schema.ResourceType
ST = schema.OperationStatus
OP = schema.OperationType
# Tansu does not answer a waiting fetch when records arrive; a short wait keeps tests fast.
FETCH_WAIT_MS = 10


def kafka_section(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    """Return a `[southbound.kafka]` section with topic names unique to this test."""
    tag = uuid.uuid4().hex[:8]
    section = {
        "bootstrap_servers": bootstrap,
        "host_topic_prefix": f"h{tag}-",
        "vpc_topic_prefix": f"v{tag}-",
        "reply_topic": f"r{tag}-replies",
        "fetch_max_wait_ms": FETCH_WAIT_MS,
        "reply_timeout_s": 5,
    }
    section.update(overrides)
    return section


def make_node(index: int, **kw: Any) -> NodeTarget:
    """Return a node with a unique id on 127.0.9.<index>."""
    return NodeTarget(
        node_id=f"node{index}-{uuid.uuid4().hex[:6]}",
        node_name=f"host{index}",
        local_ip=f"127.0.9.{index}",
        **kw,
    )


def port_goal_state(
    *port_ids: str,
    host_ip: str = "127.0.9.1",
    vpc_id: str = "vpc-1",
    neighbor_ids: Sequence[str] = (),
    name_size: int = 40,
) -> bytes:
    """Return a GoalStateV2 with a VPC context state and the given port/neighbor states."""
    entries: dict[int, list[bytes]] = {}
    resources: list[tuple[int, str]] = []

    def add(kind: int, key: str, state: Any) -> None:
        entries.setdefault(encoding.V2_FIELD[kind], []).append(
            encoding.v2_entry(kind, key, bytes(state))
        )
        resources.append((kind, key))

    add(
        RT.VPC,
        vpc_id,
        schema.VpcState(configuration=schema.VpcConfiguration(revision_number=1, id=vpc_id)),
    )
    for pid in port_ids:
        add(
            RT.PORT,
            pid,
            schema.PortState(
                operation_type=OP.CREATE,
                configuration=(
                    schema.PortConfiguration(revision_number=1, id=pid, name="p" * name_size)
                ),
            ),
        )
    for pid in neighbor_ids:
        add(
            RT.NEIGHBOR,
            f"{pid}_n",
            schema.NeighborState(
                operation_type=OP.CREATE,
                configuration=schema.NeighborConfiguration(revision_number=1, id=pid),
            ),
        )
    return encoding.assemble_goal_state_v2(host_ip, resources, entries)


class ScriptedApply:
    """The agent's apply step reduced to bookkeeping: record, then answer per state."""

    def __init__(self, status: Callable[[str], int] | None = None) -> None:
        self.payloads: list[bytes] = []
        self.status = status or (lambda key: ST.SUCCESS)

    async def __call__(self, payload: bytes) -> schema.GoalStateOperationReply:
        """Record the payload and answer each of its port and neighbor states."""
        self.payloads.append(payload)
        gs = schema.GoalStateV2().parse(payload)
        statuses = [
            schema.GoalStateOperationReplyGoalStateOperationStatus(
                resource_id=key,
                resource_type=RT.PORT,
                operation_type=OP.CREATE,
                operation_status=self.status(key),
            )
            for key in gs.port_states
        ]
        statuses += [
            schema.GoalStateOperationReplyGoalStateOperationStatus(
                resource_id=key.removesuffix("_n"),
                resource_type=RT.NEIGHBOR,
                operation_type=OP.CREATE,
                operation_status=self.status(key),
            )
            for key in gs.neighbor_states
        ]
        return schema.GoalStateOperationReply(
            format_version=102, operation_statuses=statuses, message_total_operation_time=7
        )

    def ports(self) -> list[str]:
        """Return every port id applied, in order."""
        return [k for p in self.payloads for k in schema.GoalStateV2().parse(p).port_states]


def host_consumer(t: KafkaTransport, node: NodeTarget, apply: Any, **kw: Any) -> HostTopicConsumer:
    """Return the agent-side consumer of `node`'s topic, wired like the reference agent."""
    return HostTopicConsumer(
        list(t.config.bootstrap_servers),
        t.host_topic(node),
        agent_group(node.node_id),
        node.local_ip,
        apply,
        t.config.reply_topic,
        fetch_max_wait_ms=FETCH_WAIT_MS,
        **kw,
    )


def vpc_consumer(t: KafkaTransport, node: NodeTarget, vpc_id: str, apply: Any) -> VpcTopicConsumer:
    """Return the agent-side consumer of a per-VPC topic."""
    return VpcTopicConsumer(
        list(t.config.bootstrap_servers),
        t.vpc_topic(vpc_id),
        agent_group(node.node_id),
        node.local_ip,
        apply,
        t.config.reply_topic,
        fetch_max_wait_ms=FETCH_WAIT_MS,
    )


@asynccontextmanager
async def running(*consumers: Any) -> AsyncIterator[None]:
    """Start consumers for the block and stop them after it."""
    started = []
    try:
        for consumer in consumers:
            await consumer.start()
            started.append(consumer)
        yield
    finally:
        for consumer in reversed(started):
            await consumer.stop()


async def read_topic(bootstrap: str, topic: str, count: int, timeout_ms: int = 5000) -> list[Any]:
    """Return the first `count` records of partition 0 of `topic`."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=FETCH_WAIT_MS
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        out: list[Any] = []
        while len(out) < count:
            batch = await consumer.getmany(tp, timeout_ms=timeout_ms)
            if not batch:
                break
            out.extend(batch[tp])
        return out[:count]
    finally:
        await consumer.stop()
